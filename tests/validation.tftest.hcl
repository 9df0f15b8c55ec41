# Every input is checked at plan time: a bad value is rejected (expect_failures) and the edge values pass.

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

run "lowest_edge_values_are_accepted" {
  command = plan

  variables {
    name                       = "a"
    bucket_name                = "abc"
    distributions              = { www = { id = "E", origin_path = "/s" } }
    batch_size                 = 1
    batching_window_seconds    = 0
    lambda_memory_size         = 128
    lambda_timeout             = 1
    log_retention_days         = 1
    max_paths_per_invalidation = 1
    maximum_concurrency        = 2
    index_document             = "i"
    alarm_actions              = []
    queue_age_alarm_seconds    = 60
    role_path                  = "/"
  }

  assert {
    condition     = aws_lambda_function.this.function_name == "a" && aws_lambda_event_source_mapping.this.batch_size == 1
    error_message = "The lowest allowed values must reach the plan."
  }
}

run "highest_edge_values_are_accepted" {
  command = plan

  variables {
    name        = join("", [for i in range(12) : "abcd"])
    bucket_name = join("", [for i in range(9) : "abcdefg"])
    distributions = {
      www  = { id = "E2QWRUHAPOMQZL", origin_path = "" }
      docs = { id = "E1DOCSEXAMPLE1", origin_path = "/a/b.c", directory_without_slash = true, strip_extensions = [".html", ".tar.gz", ".x~"], default_root_object = "app/home.html" }
      auto = { id = "E1AUTOEXAMPLE1", origin_path = "auto" }
    }
    batch_size                 = 10000
    batching_window_seconds    = 300
    lambda_memory_size         = 10240
    lambda_timeout             = 900
    log_retention_days         = 3653
    max_paths_per_invalidation = 3000
    maximum_concurrency        = 1000
    kms_key_arn                = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    log_group_kms_key_arn      = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alarm_actions              = ["arn:aws:sns:eu-west-1:123456789012:alerts"]
    ok_actions                 = ["arn:aws:sns:eu-west-1:123456789012:alerts"]
    queue_age_alarm_seconds    = 1123200
    role_path                  = "/a~!@#$%^&*()_+{}|:<>?-=[];',./\"'/"
    role_permissions_boundary  = "arn:aws:iam::aws:policy/PowerUserAccess"
  }

  assert {
    condition     = length(aws_lambda_function.this.function_name) == 48 && length(aws_s3_bucket_notification.this[0].bucket) == 63
    error_message = "A 48-character name and a 63-character bucket name must be accepted."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["queue-age"].threshold == 1123200 && aws_iam_role.this.path == var.role_path
    error_message = "The highest queue age threshold and a path of any printable characters must reach the plan."
  }

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 5700
    error_message = "The longest timeout and window must give a 5700 s visibility timeout."
  }
}

run "rejects_alarm_action_that_is_not_an_arn" {
  command = plan

  variables {
    alarm_actions = ["alerts"]
  }

  expect_failures = [var.alarm_actions]
}

run "rejects_batch_size_of_zero" {
  command = plan

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}

run "rejects_batch_size_above_10000" {
  command = plan

  variables {
    batch_size = 10001
  }

  expect_failures = [var.batch_size]
}

run "rejects_fractional_batch_size" {
  command = plan

  variables {
    batch_size = 10.5
  }

  expect_failures = [var.batch_size]
}

run "rejects_negative_batching_window" {
  command = plan

  variables {
    batching_window_seconds = -1
  }

  expect_failures = [var.batching_window_seconds]
}

run "rejects_batching_window_above_300" {
  command = plan

  variables {
    batching_window_seconds = 301
  }

  expect_failures = [var.batching_window_seconds]
}

run "rejects_bucket_arn_as_bucket_name" {
  command = plan

  variables {
    bucket_name = "arn:aws:s3:::example-site"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bucket_name_with_capitals" {
  command = plan

  variables {
    bucket_name = "Example-Site"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_empty_distributions" {
  command = plan

  variables {
    distributions = {}
  }

  expect_failures = [var.distributions]
}

run "rejects_distribution_arn_as_id" {
  command = plan

  variables {
    distributions = { www = { id = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_distribution_domain_as_id" {
  command = plan

  variables {
    distributions = { www = { id = "d111111abcdef8.cloudfront.net" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_origin_path_without_leading_slash" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", origin_path = "site" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_origin_path_with_trailing_slash" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", origin_path = "/site/" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_origin_path_of_a_lone_slash" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", origin_path = "/" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_index_document_with_a_directory" {
  command = plan

  variables {
    index_document = "docs/index.html"
  }

  expect_failures = [var.index_document]
}

run "rejects_empty_index_document" {
  command = plan

  variables {
    index_document = ""
  }

  expect_failures = [var.index_document]
}

run "rejects_kms_alias_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/site"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_aws_managed_key_alias_arn_for_the_queues" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/aws/sqs"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_aws_managed_key_alias_for_the_queues" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/sqs"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_log_group_key_alias_instead_of_key_arn" {
  command = plan

  variables {
    log_group_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/logs"
  }

  expect_failures = [var.log_group_kms_key_arn]
}

run "rejects_ok_action_that_is_not_an_arn" {
  command = plan

  variables {
    ok_actions = ["recoveries"]
  }

  expect_failures = [var.ok_actions]
}

run "rejects_queue_age_threshold_below_a_minute" {
  command = plan

  variables {
    queue_age_alarm_seconds = 59
  }

  expect_failures = [var.queue_age_alarm_seconds]
}

run "rejects_queue_age_threshold_the_retention_would_outrun" {
  command = plan

  variables {
    queue_age_alarm_seconds = 1123201
  }

  expect_failures = [var.queue_age_alarm_seconds]
}

run "rejects_fractional_queue_age_threshold" {
  command = plan

  variables {
    queue_age_alarm_seconds = 600.5
  }

  expect_failures = [var.queue_age_alarm_seconds]
}

run "rejects_role_path_without_trailing_slash" {
  command = plan

  variables {
    role_path = "/estate"
  }

  expect_failures = [var.role_path]
}

run "rejects_role_path_with_a_space" {
  command = plan

  variables {
    role_path = "/my estate/"
  }

  expect_failures = [var.role_path]
}

run "rejects_role_path_longer_than_512" {
  command = plan

  variables {
    role_path = "/${join("", [for i in range(511) : "a"])}/"
  }

  expect_failures = [var.role_path]
}

run "rejects_permissions_boundary_that_is_a_policy_name" {
  command = plan

  variables {
    role_permissions_boundary = "estate-boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "rejects_permissions_boundary_that_is_a_role_arn" {
  command = plan

  variables {
    role_permissions_boundary = "arn:aws:iam::123456789012:role/estate-boundary"
  }

  expect_failures = [var.role_permissions_boundary]
}

run "rejects_lambda_memory_below_128" {
  command = plan

  variables {
    lambda_memory_size = 127
  }

  expect_failures = [var.lambda_memory_size]
}

run "rejects_lambda_memory_above_10240" {
  command = plan

  variables {
    lambda_memory_size = 10241
  }

  expect_failures = [var.lambda_memory_size]
}

run "rejects_lambda_timeout_of_zero" {
  command = plan

  variables {
    lambda_timeout = 0
  }

  expect_failures = [var.lambda_timeout]
}

run "rejects_lambda_timeout_above_900" {
  command = plan

  variables {
    lambda_timeout = 901
  }

  expect_failures = [var.lambda_timeout]
}

run "rejects_log_retention_cloudwatch_does_not_offer" {
  command = plan

  variables {
    log_retention_days = 31
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_log_retention_of_zero" {
  command = plan

  variables {
    log_retention_days = 0
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_negative_evictions_per_path" {
  command = plan

  variables {
    evictions_per_path = -1
  }

  expect_failures = [var.evictions_per_path]
}

run "rejects_quiet_seconds_of_zero" {
  command = plan

  variables {
    quiet_seconds = 0
  }

  expect_failures = [var.quiet_seconds]
}

run "rejects_quiet_seconds_above_a_minute" {
  command = plan

  variables {
    quiet_seconds = 61
  }

  expect_failures = [var.quiet_seconds]
}

run "rejects_max_wait_seconds_above_five_minutes" {
  command = plan

  variables {
    max_wait_seconds = 301
  }

  expect_failures = [var.max_wait_seconds]
}

run "rejects_fractional_max_wait_seconds" {
  command = plan

  variables {
    max_wait_seconds = 60.5
  }

  expect_failures = [var.max_wait_seconds]
}

run "rejects_max_wait_shorter_than_the_quiet_time" {
  command = plan

  variables {
    quiet_seconds    = 30
    max_wait_seconds = 20
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_path_budget_of_zero" {
  command = plan

  variables {
    max_paths_per_invalidation = 0
  }

  expect_failures = [var.max_paths_per_invalidation]
}

run "rejects_path_budget_above_3000" {
  command = plan

  variables {
    max_paths_per_invalidation = 3001
  }

  expect_failures = [var.max_paths_per_invalidation]
}

run "rejects_maximum_concurrency_below_2" {
  command = plan

  variables {
    maximum_concurrency = 1
  }

  expect_failures = [var.maximum_concurrency]
}

run "rejects_maximum_concurrency_above_1000" {
  command = plan

  variables {
    maximum_concurrency = 1001
  }

  expect_failures = [var.maximum_concurrency]
}

run "rejects_name_with_a_space" {
  command = plan

  variables {
    name = "site invalidator"
  }

  expect_failures = [var.name]
}

run "rejects_name_longer_than_48" {
  command = plan

  variables {
    name = join("", [for i in range(49) : "a"])
  }

  expect_failures = [var.name]
}

run "rejects_unknown_notification_mode" {
  command = plan

  variables {
    notification_mode = "sns"
  }

  expect_failures = [var.notification_mode]
}

run "rejects_batch_size_above_10_without_a_batching_window" {
  command = plan

  variables {
    batch_size              = 11
    batching_window_seconds = 0
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "rejects_origin_path_auto_in_capitals" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", origin_path = "Auto" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_extension_without_leading_dot" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", strip_extensions = ["html"] } }
  }

  expect_failures = [var.distributions]
}

run "rejects_extension_holding_a_slash" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", strip_extensions = [".html", "./x"] } }
  }

  expect_failures = [var.distributions]
}

run "rejects_extension_that_is_only_a_dot" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", strip_extensions = ["."] } }
  }

  expect_failures = [var.distributions]
}

run "rejects_default_root_object_with_a_leading_slash" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", default_root_object = "/home.html" } }
  }

  expect_failures = [var.distributions]
}

run "rejects_default_root_object_that_is_a_directory" {
  command = plan

  variables {
    distributions = { www = { id = "E2QWRUHAPOMQZL", default_root_object = "app/" } }
  }

  expect_failures = [var.distributions]
}

# --- Operating it: metrics, dashboard, alarm, spend guard ----------------------------------------------------

run "operations_edge_values_are_accepted" {
  command = plan

  variables {
    max_paths_per_day            = 1
    metrics_namespace            = "a"
    paths_billed_alarm_threshold = 0
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.MAX_PATHS_PER_DAY == "1"
    error_message = "The lowest max_paths_per_day must reach the function."
  }
}

run "spend_guard_and_alarm_may_be_off" {
  command = plan

  variables {
    max_paths_per_day            = null
    paths_billed_alarm_threshold = null
    enable_metrics               = false
  }

  assert {
    condition     = length(aws_dynamodb_table.spend_guard) == 0 && length(aws_cloudwatch_metric_alarm.paths_billed) == 0
    error_message = "null max_paths_per_day and paths_billed_alarm_threshold must create no table and no alarm."
  }
}

run "rejects_max_paths_per_day_of_zero" {
  command = plan

  variables {
    max_paths_per_day = 0
  }

  expect_failures = [var.max_paths_per_day]
}

run "rejects_fractional_max_paths_per_day" {
  command = plan

  variables {
    max_paths_per_day = 10.5
  }

  expect_failures = [var.max_paths_per_day]
}

run "spend_guard_interval_reaches_the_function" {
  command = plan

  variables {
    spend_guard_interval_seconds = 60
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.SPEND_GUARD_INTERVAL_SECONDS == "60"
    error_message = "spend_guard_interval_seconds must reach the function as SPEND_GUARD_INTERVAL_SECONDS."
  }
}

run "rejects_spend_guard_interval_below_the_dedupe_margin" {
  command = plan

  variables {
    spend_guard_interval_seconds = 59
  }

  expect_failures = [var.spend_guard_interval_seconds]
}

run "rejects_spend_guard_interval_past_sqs_longest_visibility" {
  command = plan

  variables {
    spend_guard_interval_seconds = 43201
  }

  expect_failures = [var.spend_guard_interval_seconds]
}

run "rejects_fractional_spend_guard_interval" {
  command = plan

  variables {
    spend_guard_interval_seconds = 90.5
  }

  expect_failures = [var.spend_guard_interval_seconds]
}

run "rejects_metrics_namespace_of_aws" {
  command = plan

  variables {
    metrics_namespace = "AWS/CloudFront"
  }

  expect_failures = [var.metrics_namespace]
}

run "rejects_empty_metrics_namespace" {
  command = plan

  variables {
    metrics_namespace = ""
  }

  expect_failures = [var.metrics_namespace]
}

run "rejects_metrics_namespace_with_other_characters" {
  command = plan

  variables {
    metrics_namespace = "team$cdn"
  }

  expect_failures = [var.metrics_namespace]
}

run "rejects_negative_paths_billed_alarm_threshold" {
  command = plan

  variables {
    paths_billed_alarm_threshold = -1
  }

  expect_failures = [var.paths_billed_alarm_threshold]
}

run "rejects_fractional_paths_billed_alarm_threshold" {
  command = plan

  variables {
    paths_billed_alarm_threshold = 2.5
  }

  expect_failures = [var.paths_billed_alarm_threshold]
}

run "rejects_paths_billed_alarm_without_metrics" {
  command = plan

  variables {
    paths_billed_alarm_threshold = 1000
    enable_metrics               = false
  }

  expect_failures = [aws_lambda_function.this]
}
