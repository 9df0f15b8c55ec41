# The function, its configuration, the queue pair that feeds it and the alarm on what it could not do.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "site-invalidator"
  bucket_name = "example-site"
  distributions = {
    www  = { id = "E2QWRUHAPOMQZL" }
    docs = { id = "E1DOCSEXAMPLE1", origin_path = "/docs" }
  }
}

run "function_runs_the_committed_package_on_python_3_13_with_defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.handler == "cf_invalidator.handler.lambda_handler" && aws_lambda_function.this.runtime == "python3.13"
    error_message = "The function must run cf_invalidator.handler.lambda_handler on python3.13."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("dist/cf_invalidator.zip")
    error_message = "The function must deploy dist/cf_invalidator.zip and change whenever it does."
  }

  assert {
    condition     = aws_lambda_function.this.memory_size == 128 && aws_lambda_function.this.timeout == 60
    error_message = "The defaults must be 128 MB and 60 s."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/site-invalidator"
    error_message = "The function must log JSON lines into the module's log group."
  }
}

run "environment_carries_distributions_with_default_origin_path_index_document_and_budget" {
  command = plan

  variables {
    index_document             = "default.htm"
    max_paths_per_invalidation = 250
  }

  assert {
    condition = jsondecode(aws_lambda_function.this.environment[0].variables["DISTRIBUTIONS"]) == {
      www  = { id = "E2QWRUHAPOMQZL", origin_path = "" }
      docs = { id = "E1DOCSEXAMPLE1", origin_path = "/docs" }
    }
    error_message = "DISTRIBUTIONS must be the distributions map with origin_path defaulted to \"\": ${aws_lambda_function.this.environment[0].variables["DISTRIBUTIONS"]}"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["INDEX_DOCUMENT"] == "default.htm"
    error_message = "INDEX_DOCUMENT must be var.index_document."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["MAX_PATHS_PER_INVALIDATION"] == "250"
    error_message = "MAX_PATHS_PER_INVALIDATION must be var.max_paths_per_invalidation as a whole number."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["SKIP_UNCHANGED_OBJECTS"] == "true" && aws_lambda_function.this.environment[0].variables["INVALIDATE_NEW_OBJECTS"] == "true"
    error_message = "Change detection is on by default and new objects are invalidated: SKIP_UNCHANGED_OBJECTS and INVALIDATE_NEW_OBJECTS must be \"true\"."
  }

  assert {
    condition     = length(aws_lambda_function.this.environment[0].variables) == 5
    error_message = "The handler reads exactly five settings; nothing else belongs in its environment."
  }
}

run "change_detection_settings_reach_the_function_as_terraform_writes_bools" {
  command = plan

  variables {
    skip_unchanged_objects = true
    invalidate_new_objects = false
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["SKIP_UNCHANGED_OBJECTS"] == "true" && aws_lambda_function.this.environment[0].variables["INVALIDATE_NEW_OBJECTS"] == "false"
    error_message = "SKIP_UNCHANGED_OBJECTS and INVALIDATE_NEW_OBJECTS must be var.skip_unchanged_objects and var.invalidate_new_objects as \"true\"/\"false\"."
  }
}

run "skipping_new_objects_without_change_detection_is_refused" {
  command = plan

  variables {
    skip_unchanged_objects = false
    invalidate_new_objects = false
  }

  expect_failures = [aws_lambda_function.this]
}

run "event_source_mapping_batches_a_deploy_and_reports_item_failures" {
  command = plan

  assert {
    condition     = aws_lambda_event_source_mapping.this.event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:site-invalidator"
    error_message = "The mapping must read the module's queue."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.batch_size == 1000 && aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 20
    error_message = "The defaults must be batches of up to 1000 messages gathered for 20 s."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The mapping must let the handler report failed messages one by one."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency == 2
    error_message = "The mapping must run at most 2 batches at once by default."
  }
}

run "mapping_settings_follow_the_inputs" {
  command = plan

  variables {
    batch_size              = 10
    batching_window_seconds = 0
    maximum_concurrency     = 5
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.batch_size == 10 &&
      aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 0 &&
      aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency == 5
    )
    error_message = "batch_size, batching_window_seconds and maximum_concurrency must reach the mapping."
  }
}

run "queue_outlasts_retries_and_sends_repeated_failures_to_the_dead_letter_queue" {
  command = plan

  variables {
    lambda_timeout          = 120
    batching_window_seconds = 30
  }

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 6 * 120 + 30
    error_message = "The visibility timeout must be 6 x the function timeout + the batching window."
  }

  assert {
    condition = jsondecode(aws_sqs_queue.this.redrive_policy) == {
      deadLetterTargetArn = "arn:aws:sqs:eu-west-1:123456789012:site-invalidator-dlq"
      maxReceiveCount     = 5
    }
    error_message = "The queue must move a message to the dead-letter queue after 5 receives: ${aws_sqs_queue.this.redrive_policy}"
  }

  assert {
    condition     = aws_sqs_queue.this.name == "site-invalidator" && aws_sqs_queue.dead_letter.name == "site-invalidator-dlq"
    error_message = "The queues must be named after var.name."
  }
}

run "queues_use_sse_sqs_without_a_key" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled
    error_message = "Without kms_key_arn both queues must use SSE-SQS."
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == null && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "Without kms_key_arn no KMS key may be set."
  }
}

run "kms_key_encrypts_both_queues_and_the_log_group" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = (
      aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn &&
      aws_sqs_queue.dead_letter.kms_master_key_id == var.kms_key_arn &&
      aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    )
    error_message = "kms_key_arn must encrypt the queue, the dead-letter queue and the log group."
  }
}

run "log_group_has_the_lambda_name_and_a_retention" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/site-invalidator" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "The log group must be /aws/lambda/<name> and keep logs 30 days by default."
  }

  assert {
    condition     = output.log_group_name == "/aws/lambda/site-invalidator"
    error_message = "log_group_name must output the log group's name."
  }
}

run "alarm_fires_on_any_message_in_the_dead_letter_queue" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alerts"]
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this.namespace == "AWS/SQS" &&
      aws_cloudwatch_metric_alarm.this.metric_name == "ApproximateNumberOfMessagesVisible" &&
      aws_cloudwatch_metric_alarm.this.dimensions == tomap({ QueueName = "site-invalidator-dlq" }) &&
      aws_cloudwatch_metric_alarm.this.comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this.threshold == 0
    )
    error_message = "The alarm must watch the dead-letter queue's visible messages, above 0."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alerts"])
    error_message = "The alarm must notify alarm_actions."
  }
}

run "alarm_has_no_actions_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this.alarm_actions) == 0
    error_message = "alarm_actions must default to none."
  }
}

run "tags_reach_every_taggable_resource" {
  command = plan

  variables {
    notification_mode = "eventbridge"
    tags              = { team = "web" }
  }

  assert {
    condition = alltrue([
      for t in [
        aws_sqs_queue.this.tags, aws_sqs_queue.dead_letter.tags, aws_cloudwatch_log_group.this.tags,
        aws_lambda_function.this.tags, aws_iam_role.this.tags, aws_cloudwatch_metric_alarm.this.tags,
        aws_cloudwatch_event_rule.this[0].tags,
      ] : t == tomap({ team = "web" })
    ])
    error_message = "var.tags must be set on every resource that takes tags."
  }
}
