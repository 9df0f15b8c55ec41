# Each notification_mode creates what it needs to bring the bucket's events to the queue, and nothing else.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "site-invalidator"
  bucket_name = "example-site"
  distributions = {
    www = { id = "E2QWRUHAPOMQZL" }
  }
}

run "s3_mode_notifies_the_queue_of_created_removed_and_expired_objects" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 1 && aws_s3_bucket_notification.this[0].bucket == "example-site"
    error_message = "Mode s3 must write the bucket's notification configuration."
  }

  assert {
    condition     = [for q in aws_s3_bucket_notification.this[0].queue : q.queue_arn] == ["arn:aws:sqs:eu-west-1:123456789012:site-invalidator"]
    error_message = "Mode s3 must send the events to the module's queue, and only there."
  }

  assert {
    condition     = toset(aws_s3_bucket_notification.this[0].queue[0].events) == toset(["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"])
    error_message = "Mode s3 must notify created, removed and lifecycle-expired objects."
  }

  assert {
    condition     = aws_s3_bucket_notification.this[0].eventbridge == false
    error_message = "Mode s3 must not turn on EventBridge delivery."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0
    error_message = "Mode s3 must not create an EventBridge rule or target."
  }
}

run "s3_mode_queue_policy_admits_only_this_bucket_from_this_account" {
  command = plan

  assert {
    condition = jsondecode(aws_sqs_queue_policy.this.policy).Statement == [{
      Sid       = "BucketEventsFromThisAccount"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:site-invalidator"
      Condition = {
        ArnEquals    = { "aws:SourceArn" = "arn:aws:s3:::example-site" }
        StringEquals = { "aws:SourceAccount" = "123456789012" }
      }
    }]
    error_message = "The queue policy must admit s3.amazonaws.com for this bucket and account only: ${aws_sqs_queue_policy.this.policy}"
  }

  assert {
    condition     = aws_sqs_queue_policy.this.queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator"
    error_message = "The policy must be set on the module's queue."
  }
}

run "eventbridge_mode_routes_object_created_and_deleted_events_of_the_bucket_to_the_queue" {
  command = plan

  variables {
    notification_mode = "eventbridge"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this[0].event_pattern) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created", "Object Deleted"]
      detail        = { bucket = { name = ["example-site"] } }
    }
    error_message = "The rule must match Object Created / Object Deleted of this bucket only: ${aws_cloudwatch_event_rule.this[0].event_pattern}"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this[0].arn == "arn:aws:sqs:eu-west-1:123456789012:site-invalidator" && aws_cloudwatch_event_target.this[0].rule == aws_cloudwatch_event_rule.this[0].name
    error_message = "The rule's target must be the module's queue."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0
    error_message = "Without enable_bucket_eventbridge, mode eventbridge must leave the bucket's notification configuration alone."
  }
}

run "eventbridge_mode_queue_policy_admits_only_the_rule" {
  command = plan

  variables {
    notification_mode = "eventbridge"
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_policy.this.policy).Statement[0].Principal == { Service = "events.amazonaws.com" }
    error_message = "In mode eventbridge the queue must admit events.amazonaws.com."
  }

  assert {
    condition = jsondecode(aws_sqs_queue_policy.this.policy).Statement[0].Condition == {
      ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/site-invalidator" }
    }
    error_message = "In mode eventbridge the queue must admit the module's rule only: ${aws_sqs_queue_policy.this.policy}"
  }
}

run "eventbridge_mode_turns_on_bucket_eventbridge_only_when_asked" {
  command = plan

  variables {
    notification_mode         = "eventbridge"
    enable_bucket_eventbridge = true
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 1 && aws_s3_bucket_notification.this[0].eventbridge == true
    error_message = "enable_bucket_eventbridge must turn on the bucket's EventBridge delivery."
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this[0].queue) == 0
    error_message = "In mode eventbridge the bucket must not also notify the queue directly (each change would arrive twice)."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 1 && length(aws_cloudwatch_event_target.this) == 1
    error_message = "Mode eventbridge must still route events through the rule."
  }
}

run "none_mode_creates_no_notification_and_no_rule" {
  command = plan

  variables {
    notification_mode = "none"
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0
    error_message = "Mode none must not touch the bucket's notification configuration."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0
    error_message = "Mode none must not create an EventBridge rule or target."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_policy.this.policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:s3:::example-site"
    error_message = "In mode none the queue must admit the bucket's own notifications, which the user wires."
  }

  assert {
    condition     = output.queue_arn == "arn:aws:sqs:eu-west-1:123456789012:site-invalidator"
    error_message = "Mode none must output the queue ARN the user wires the bucket to."
  }
}

run "enable_bucket_eventbridge_is_rejected_outside_eventbridge_mode" {
  command = plan

  variables {
    notification_mode         = "s3"
    enable_bucket_eventbridge = true
  }

  expect_failures = [aws_sqs_queue.this]
}

run "eventbridge_mode_keeps_what_the_rule_cannot_deliver_in_the_dead_letter_queue" {
  command = plan

  variables {
    notification_mode = "eventbridge"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this[0].dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:site-invalidator-dlq"
    error_message = "The rule's target must send what it cannot deliver to the module's dead-letter queue."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_event_age_in_seconds == 86400 &&
      aws_cloudwatch_event_target.this[0].retry_policy[0].maximum_retry_attempts == 185
    )
    error_message = "The rule's target must retry as long as EventBridge allows (24 hours, 185 attempts) before the dead-letter queue."
  }

  assert {
    condition = length(aws_sqs_queue_policy.dead_letter) == 1 && jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement == [{
      Sid       = "UndeliveredEventsFromTheRule"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:site-invalidator-dlq"
      Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/site-invalidator" } }
    }]
    error_message = "The dead-letter queue must admit events.amazonaws.com from the module's rule only."
  }

  assert {
    condition     = aws_sqs_queue_policy.dead_letter[0].queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator-dlq"
    error_message = "The rule's policy must be set on the dead-letter queue."
  }
}

run "s3_mode_leaves_the_dead_letter_queue_without_a_policy" {
  command = plan

  assert {
    condition     = length(aws_sqs_queue_policy.dead_letter) == 0
    error_message = "Outside mode eventbridge nothing but SQS's redrive sends to the dead-letter queue: it needs no policy."
  }
}

run "s3_mode_rejects_a_bucket_in_another_region" {
  command = plan

  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "example-site.s3.us-east-1.amazonaws.com" }
  }

  expect_failures = [aws_sqs_queue.this]
}

run "eventbridge_mode_rejects_a_bucket_in_another_region" {
  command = plan

  variables {
    notification_mode = "eventbridge"
  }

  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "example-site.s3.us-east-1.amazonaws.com" }
  }

  expect_failures = [aws_sqs_queue.this]
}

run "none_mode_does_not_read_the_bucket" {
  command = plan

  variables {
    notification_mode = "none"
  }

  assert {
    condition     = length(data.aws_s3_bucket.this) == 0
    error_message = "Mode none must not read the bucket (the user wires it, and S3 refuses a queue in another region then)."
  }
}

run "a_dotted_bucket_name_in_another_region_is_rejected" {
  command = plan

  variables {
    bucket_name = "www.example.com"
  }

  # The region is the label after "<bucket>.s3.", however many dots the bucket's name has.
  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "www.example.com.s3.us-east-1.amazonaws.com" }
  }

  expect_failures = [aws_sqs_queue.this]
}

run "a_regional_domain_name_without_a_region_skips_the_bucket_region_check" {
  command = plan

  # The form the provider falls back to when it knows no region: the module cannot tell, so it does not refuse.
  override_data {
    target = data.aws_s3_bucket.this[0]
    values = { bucket_regional_domain_name = "example-site.s3.amazonaws.com" }
  }

  assert {
    condition     = aws_sqs_queue.this.name == "site-invalidator"
    error_message = "A regional domain name without a region must not fail the plan."
  }
}
