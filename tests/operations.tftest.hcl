# Operating it: the function's metrics settings, the spend guard's table, the dashboard and the alarm.

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
  tags = { team = "web" }
}

run "metrics_and_spend_guard_are_on_by_default" {
  command = plan

  assert {
    condition = {
      for k, v in aws_lambda_function.this.environment[0].variables : k => v
      if contains(["ENABLE_METRICS", "METRICS_NAMESPACE", "MAX_PATHS_PER_DAY", "SPEND_GUARD_TABLE"], k)
      } == {
      ENABLE_METRICS    = "true"
      METRICS_NAMESPACE = "CloudFrontAutoInvalidation"
      MAX_PATHS_PER_DAY = "5000"
      SPEND_GUARD_TABLE = "site-invalidator-spend-guard"
    }
    error_message = "The function must be told to write metrics in CloudFrontAutoInvalidation and to guard 5000 paths a day in its table."
  }

  assert {
    condition = (
      aws_dynamodb_table.spend_guard[0].name == "site-invalidator-spend-guard" &&
      aws_dynamodb_table.spend_guard[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.spend_guard[0].hash_key == "distribution_id"
    )
    error_message = "The spend guard's table must be on demand, keyed by distribution_id."
  }

  assert {
    condition = (
      aws_dynamodb_table.spend_guard[0].server_side_encryption[0].enabled &&
      aws_dynamodb_table.spend_guard[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.spend_guard[0].ttl[0].attribute_name == "expires_at" &&
      aws_dynamodb_table.spend_guard[0].ttl[0].enabled &&
      aws_dynamodb_table.spend_guard[0].tags["team"] == "web"
    )
    error_message = "The spend guard's table must be encrypted, recoverable, expire idle items by expires_at, and carry the tags."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && length(aws_cloudwatch_metric_alarm.paths_billed) == 0
    error_message = "No dashboard and no paths-billed alarm unless asked for."
  }
}

run "spend_guard_table_uses_the_given_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_dynamodb_table.spend_guard[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "With kms_key_arn, the spend guard's table must be encrypted with that key."
  }

  assert {
    condition     = aws_dynamodb_table.deploys.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "With kms_key_arn, the deploy inbox must be encrypted with that key."
  }
}

run "deploy_inbox_exists_without_the_spend_guard_and_never_expires_a_change" {
  command = plan

  variables {
    max_paths_per_day = null
    tags              = { team = "web" }
  }

  assert {
    condition = (
      aws_dynamodb_table.deploys.name == "site-invalidator-deploys" &&
      aws_dynamodb_table.deploys.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.deploys.hash_key == "pk" && aws_dynamodb_table.deploys.range_key == "sk"
    )
    error_message = "The deploy inbox must be an on-demand table keyed by pk and sk, whatever the spend guard."
  }

  assert {
    condition = (
      aws_dynamodb_table.deploys.server_side_encryption[0].enabled &&
      aws_dynamodb_table.deploys.point_in_time_recovery[0].enabled &&
      length(aws_dynamodb_table.deploys.ttl) == 0 &&
      aws_dynamodb_table.deploys.tags["team"] == "web"
    )
    error_message = "The deploy inbox must be encrypted, recoverable, carry the tags, and never expire an item (a waiting change is never dropped)."
  }
}

run "no_spend_guard_no_table_no_permission" {
  command = plan

  variables {
    max_paths_per_day = null
    enable_metrics    = false
  }

  assert {
    condition     = length(aws_dynamodb_table.spend_guard) == 0 && !contains(keys(aws_lambda_function.this.environment[0].variables), "MAX_PATHS_PER_DAY")
    error_message = "max_paths_per_day = null must create no table and leave MAX_PATHS_PER_DAY unset."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this.policy, "spend-guard")
    error_message = "Without the spend guard, the role must not touch its table."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.ENABLE_METRICS == "false"
    error_message = "enable_metrics = false must reach the function."
  }
}

run "dashboard_shows_every_metric_per_distribution_the_queues_and_the_function" {
  command = plan

  variables {
    create_dashboard  = true
    metrics_namespace = "Team/CDN"
  }

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "site-invalidator"
    error_message = "The dashboard must be named after the module."
  }

  assert {
    condition = toset([
      for line in flatten([
        for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
          for m in w.properties.metrics : "${m[0]} ${m[1]} ${m[3]}" if m[0] == "Team/CDN"
        ]
      ]) : line
      ]) == toset(flatten([
        for name in [
          "PathsBilled", "WildcardPaths", "InvalidationsCreated", "KeysInvalidated", "UnchangedSkipped",
          "NewObjectsSkipped", "ChangesUnverified", "ChangeToInvalidationSeconds", "QuotaWaits", "SpendGuarded",
        ] : ["Team/CDN ${name} E2QWRUHAPOMQZL", "Team/CDN ${name} E1DOCSEXAMPLE1"]
    ]))
    error_message = "The dashboard must chart each of the function's metrics for each distribution, in metrics_namespace."
  }

  assert {
    condition = toset([
      for line in flatten([
        for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [
          for m in w.properties.metrics : "${m[0]} ${m[1]} ${m[3]}" if m[0] != "Team/CDN"
        ]
      ]) : line
      ]) == toset([
      "AWS/SQS ApproximateNumberOfMessagesVisible site-invalidator",
      "AWS/SQS ApproximateNumberOfMessagesVisible site-invalidator-dlq",
      "AWS/SQS ApproximateAgeOfOldestMessage site-invalidator",
      "AWS/Lambda Errors site-invalidator",
      "AWS/Lambda Duration site-invalidator",
    ])
    error_message = "The dashboard must chart the queue's depth and age, the DLQ's depth, the function's errors and duration."
  }

  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.type == "metric" && w.properties.region == "eu-west-1"])
    error_message = "Every widget must be a metric widget in the module's region."
  }
}

run "paths_billed_alarm_sums_a_day_per_distribution" {
  command = plan

  variables {
    paths_billed_alarm_threshold = 2000
    alarm_actions                = ["arn:aws:sns:eu-west-1:123456789012:alerts"]
    ok_actions                   = ["arn:aws:sns:eu-west-1:123456789012:ok"]
  }

  assert {
    condition = {
      for k, a in aws_cloudwatch_metric_alarm.paths_billed : k => [
        a.alarm_name, a.namespace, a.metric_name, a.dimensions.DistributionId, a.statistic, a.period,
        a.evaluation_periods, a.threshold, a.comparison_operator, a.treat_missing_data,
      ]
      } == {
      www  = ["site-invalidator-paths-billed-www", "CloudFrontAutoInvalidation", "PathsBilled", "E2QWRUHAPOMQZL", "Sum", 86400, 1, 2000, "GreaterThanThreshold", "notBreaching"]
      docs = ["site-invalidator-paths-billed-docs", "CloudFrontAutoInvalidation", "PathsBilled", "E1DOCSEXAMPLE1", "Sum", 86400, 1, 2000, "GreaterThanThreshold", "notBreaching"]
    }
    error_message = "Each distribution's alarm must fire when PathsBilled summed over one 86,400 s period passes the threshold."
  }

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.paths_billed :
      a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alerts"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ok"])
    ])
    error_message = "The alarm must notify alarm_actions and ok_actions."
  }
}

run "alarm_arns_include_the_paths_billed_alarms" {
  command = plan

  variables {
    paths_billed_alarm_threshold = 2000
  }

  override_resource {
    target          = aws_cloudwatch_metric_alarm.paths_billed["www"]
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-paths-billed-www" }
  }

  assert {
    condition     = output.alarm_arns["site-invalidator-paths-billed-www"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-paths-billed-www"
    error_message = "alarm_arns must list the paths-billed alarms by name."
  }
}
