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
    condition     = aws_lambda_function.this.memory_size == 512 && aws_lambda_function.this.timeout == 60
    error_message = "The defaults must be 512 MB and 60 s."
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
      www  = { id = "E2QWRUHAPOMQZL", origin_path = "", directory_without_slash = false, strip_extensions = [], default_root_object = "" }
      docs = { id = "E1DOCSEXAMPLE1", origin_path = "/docs", directory_without_slash = false, strip_extensions = [], default_root_object = "" }
    }
    error_message = "DISTRIBUTIONS must be the distributions map with origin_path and default_root_object defaulted to \"\" and no rewrite: ${aws_lambda_function.this.environment[0].variables["DISTRIBUTIONS"]}"
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
    condition     = aws_lambda_function.this.environment[0].variables["EVICTIONS_PER_PATH"] == "3"
    error_message = "EVICTIONS_PER_PATH must default to var.evictions_per_path's default, 3."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["QUIET_SECONDS"] == "5" &&
      aws_lambda_function.this.environment[0].variables["MAX_WAIT_SECONDS"] == "300" &&
      aws_lambda_function.this.environment[0].variables["INBOX_TABLE"] == "site-invalidator-deploys" &&
      aws_lambda_function.this.environment[0].variables["DEAD_LETTER_QUEUE_ARN"] == "arn:aws:sqs:eu-west-1:123456789012:site-invalidator-dlq"
    )
    error_message = "The deploy inbox must reach the function: its table, the dead-letter queue, and the waits' defaults (5 s quiet, 300 s longest)."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["VERIFY_DISTRIBUTIONS"] == "true" && aws_lambda_function.this.environment[0].variables["BUCKET_NAME"] == var.bucket_name
    error_message = "Distributions are verified by default, against var.bucket_name: VERIFY_DISTRIBUTIONS must be \"true\" and BUCKET_NAME the bucket."
  }

  assert {
    condition = toset(keys(aws_lambda_function.this.environment[0].variables)) == toset([
      "BUCKET_NAME", "DEAD_LETTER_QUEUE_ARN", "DISTRIBUTIONS", "ENABLE_METRICS", "EVICTIONS_PER_PATH",
      "INBOX_TABLE", "INDEX_DOCUMENT", "INVALIDATE_NEW_OBJECTS", "MAX_PATHS_PER_DAY", "MAX_PATHS_PER_INVALIDATION",
      "MAX_WAIT_SECONDS", "METRICS_NAMESPACE", "QUIET_SECONDS", "SKIP_UNCHANGED_OBJECTS",
      "SPEND_GUARD_INTERVAL_SECONDS", "SPEND_GUARD_TABLE", "VERIFY_DISTRIBUTIONS",
    ])
    error_message = "The handler reads exactly these seventeen settings (config.py); nothing else belongs in its environment."
  }
}

run "viewer_url_options_and_auto_reach_the_function" {
  command = plan

  variables {
    verify_distributions = false
    distributions = {
      www    = { id = "E2QWRUHAPOMQZL", directory_without_slash = true, strip_extensions = [".html", ".htm"], default_root_object = "home.html" }
      assets = { id = "E1AUTOEXAMPLE1", origin_path = "auto" }
    }
  }

  assert {
    condition = jsondecode(aws_lambda_function.this.environment[0].variables["DISTRIBUTIONS"]) == {
      www    = { id = "E2QWRUHAPOMQZL", origin_path = "", directory_without_slash = true, strip_extensions = [".html", ".htm"], default_root_object = "home.html" }
      assets = { id = "E1AUTOEXAMPLE1", origin_path = "auto", directory_without_slash = false, strip_extensions = [], default_root_object = "" }
    }
    error_message = "DISTRIBUTIONS must carry each entry's options: ${aws_lambda_function.this.environment[0].variables["DISTRIBUTIONS"]}"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["VERIFY_DISTRIBUTIONS"] == "false"
    error_message = "VERIFY_DISTRIBUTIONS must be var.verify_distributions as \"true\"/\"false\"."
  }
}

run "deploy_inbox_waits_reach_the_function" {
  command = plan

  variables {
    quiet_seconds    = 10
    max_wait_seconds = 300
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["QUIET_SECONDS"] == "10" && aws_lambda_function.this.environment[0].variables["MAX_WAIT_SECONDS"] == "300"
    error_message = "QUIET_SECONDS and MAX_WAIT_SECONDS must be var.quiet_seconds and var.max_wait_seconds as whole numbers."
  }
}

run "evictions_per_path_reaches_the_function_as_a_number" {
  command = plan

  variables {
    evictions_per_path = 0.5
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["EVICTIONS_PER_PATH"] == "0.5"
    error_message = "EVICTIONS_PER_PATH must be var.evictions_per_path as Terraform writes a number: ${aws_lambda_function.this.environment[0].variables["EVICTIONS_PER_PATH"]}"
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
    condition     = aws_lambda_event_source_mapping.this.batch_size == 1000 && aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 1
    error_message = "The defaults must be batches of up to 1000 messages gathered for 1 s (the least a batch above 10 allows: the deploy inbox waits for the quiet)."
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

run "kms_key_encrypts_both_queues_and_leaves_the_log_group_to_its_own_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = (
      aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn &&
      aws_sqs_queue.dead_letter.kms_master_key_id == var.kms_key_arn &&
      aws_sqs_queue.this.sqs_managed_sse_enabled != true && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled != true
    )
    error_message = "kms_key_arn must encrypt the queue and the dead-letter queue instead of SSE-SQS."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "kms_key_arn must not encrypt the log group: its key policy must admit CloudWatch Logs, a queue key's does not."
  }
}

run "log_group_kms_key_encrypts_the_log_group_only" {
  command = plan

  variables {
    log_group_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "log_group_kms_key_arn must encrypt the log group."
  }

  assert {
    condition = (
      aws_sqs_queue.this.kms_master_key_id == null && aws_sqs_queue.dead_letter.kms_master_key_id == null &&
      aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled
    )
    error_message = "log_group_kms_key_arn must leave the queues on SSE-SQS."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "kms:")
    error_message = "The function writes logs through CloudWatch Logs, which uses the log group's key itself: the role needs no KMS grant for it."
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

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["dead-letters"].alarm_name == "site-invalidator-dead-letters" &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].namespace == "AWS/SQS" &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].metric_name == "ApproximateNumberOfMessagesVisible" &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].dimensions == tomap({ QueueName = "site-invalidator-dlq" }) &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["dead-letters"].threshold == 0
    )
    error_message = "The dead-letter alarm must watch the dead-letter queue's visible messages (maximum), above 0."
  }
}

run "alarm_fires_when_the_oldest_queued_change_waits_longer_than_the_redelivery_cycle" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["queue-age"].alarm_name == "site-invalidator-queue-age" &&
      aws_cloudwatch_metric_alarm.this["queue-age"].namespace == "AWS/SQS" &&
      aws_cloudwatch_metric_alarm.this["queue-age"].metric_name == "ApproximateAgeOfOldestMessage" &&
      aws_cloudwatch_metric_alarm.this["queue-age"].dimensions == tomap({ QueueName = "site-invalidator" }) &&
      aws_cloudwatch_metric_alarm.this["queue-age"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["queue-age"].comparison_operator == "GreaterThanThreshold"
    )
    error_message = "The queue-age alarm must watch the main queue's ApproximateAgeOfOldestMessage (maximum)."
  }

  # Postponed redelivery: 1 + 4 + 16 + 64 minutes before the fifth receive, 256 after it before the move
  # to the dead-letter queue (lambda_src/cf_invalidator/core/redelivery.py), plus five invocations of 60 s
  # and five batching windows of 20 s.
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["queue-age"].threshold > (1 + 4 + 16 + 64 + 256) * 60 + 5 * (60 + 20)
    error_message = "The default queue age threshold must outlast the postponed-redelivery cycle, or a long CloudFront wait would page."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["queue-age"].threshold < 14 * 24 * 3600
    error_message = "The queue age threshold must fire before the queue's retention drops the message."
  }
}

run "queue_age_threshold_follows_its_input" {
  command = plan

  variables {
    queue_age_alarm_seconds = 3600
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["queue-age"].threshold == 3600
    error_message = "queue_age_alarm_seconds must be the queue-age alarm's threshold."
  }
}

run "alarm_fires_on_any_failed_invocation_of_the_function" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["errors"].alarm_name == "site-invalidator-errors" &&
      aws_cloudwatch_metric_alarm.this["errors"].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.this["errors"].metric_name == "Errors" &&
      aws_cloudwatch_metric_alarm.this["errors"].dimensions == tomap({ FunctionName = "site-invalidator" }) &&
      aws_cloudwatch_metric_alarm.this["errors"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["errors"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["errors"].threshold == 0
    )
    error_message = "The errors alarm must watch the function's Errors (sum), above 0."
  }
}

run "every_alarm_notifies_alarm_and_ok_actions" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:alerts"]
    ok_actions    = ["arn:aws:sns:eu-west-1:123456789012:recoveries"]
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["dead-letters", "errors", "queue-age"]
    error_message = "The module must have exactly the dead-letters, errors and queue-age alarms."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alerts"]) &&
      alarm.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:recoveries"]) &&
      alarm.period == 300 && alarm.evaluation_periods == 1 && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "Every alarm must notify alarm_actions and ok_actions, over one 5-minute period."
  }
}

run "alarms_have_no_actions_by_default" {
  command = plan

  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.this : length(alarm.alarm_actions) == 0 && length(alarm.ok_actions) == 0])
    error_message = "alarm_actions and ok_actions must default to none."
  }
}

run "both_queues_keep_messages_14_days" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this.message_retention_seconds == 1209600 && aws_sqs_queue.dead_letter.message_retention_seconds == 1209600
    error_message = "Both queues must keep messages 14 days, the most SQS allows, so a queue nobody consumes loses nothing for two weeks."
  }
}

# Every resource of the module that takes tags, in each mode; the resources without tags are the queue
# policies, the role policy, the bucket notification and the event target.
run "tags_reach_every_taggable_resource_in_mode_s3" {
  command = plan

  variables {
    notification_mode = "s3"
    tags              = { team = "web" }
  }

  assert {
    condition = alltrue([
      for t in concat(
        [
          aws_sqs_queue.this.tags, aws_sqs_queue.dead_letter.tags, aws_cloudwatch_log_group.this.tags,
          aws_lambda_function.this.tags, aws_lambda_event_source_mapping.this.tags, aws_iam_role.this.tags,
        ],
        [for alarm in aws_cloudwatch_metric_alarm.this : alarm.tags],
      ) : t == tomap({ team = "web" })
    ]) && length(aws_cloudwatch_metric_alarm.this) == 3 && length(aws_cloudwatch_event_rule.this) == 0
    error_message = "var.tags must be set on every resource that takes tags."
  }
}

run "tags_reach_every_taggable_resource_in_mode_eventbridge" {
  command = plan

  variables {
    notification_mode = "eventbridge"
    tags              = { team = "web" }
  }

  assert {
    condition = alltrue([
      for t in concat(
        [
          aws_sqs_queue.this.tags, aws_sqs_queue.dead_letter.tags, aws_cloudwatch_log_group.this.tags,
          aws_lambda_function.this.tags, aws_lambda_event_source_mapping.this.tags, aws_iam_role.this.tags,
          aws_cloudwatch_event_rule.this[0].tags,
        ],
        [for alarm in aws_cloudwatch_metric_alarm.this : alarm.tags],
      ) : t == tomap({ team = "web" })
    ]) && length(aws_cloudwatch_metric_alarm.this) == 3
    error_message = "var.tags must be set on every resource that takes tags, the EventBridge rule included."
  }
}

run "tags_reach_every_taggable_resource_in_mode_none" {
  command = plan

  variables {
    notification_mode = "none"
    tags              = { team = "web" }
  }

  assert {
    condition = alltrue([
      for t in concat(
        [
          aws_sqs_queue.this.tags, aws_sqs_queue.dead_letter.tags, aws_cloudwatch_log_group.this.tags,
          aws_lambda_function.this.tags, aws_lambda_event_source_mapping.this.tags, aws_iam_role.this.tags,
        ],
        [for alarm in aws_cloudwatch_metric_alarm.this : alarm.tags],
      ) : t == tomap({ team = "web" })
    ]) && length(aws_cloudwatch_metric_alarm.this) == 3 && length(aws_cloudwatch_event_rule.this) == 0
    error_message = "var.tags must be set on every resource that takes tags."
  }
}
