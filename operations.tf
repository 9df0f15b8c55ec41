# Operating it: the spend guard's table, the dashboard, and the alarm on paths billed a day.
# The function writes its metrics itself (Embedded Metric Format lines in its log): nothing to create here.

locals {
  deploys_table_name = "${var.name}-deploys"
  deploys_table_arn  = "arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:table/${local.deploys_table_name}"
  spend_table_name   = "${var.name}-spend-guard"
  spend_table_arn    = "arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:table/${local.spend_table_name}"
  region             = data.aws_region.current.id
  # One series per distribution (dimension DistributionId), labelled with its key in var.distributions.
  distribution_series = { for label, d in var.distributions : label => d.id }
}

# The deploy inbox: the changes waiting per distribution until its bucket goes quiet, and each
# distribution's state (newest write, oldest change waiting, flush lease): lambda_src/cf_invalidator/aws/inbox.py.
# No TTL: a waiting change is never dropped; a flushed one is deleted by the function.
resource "aws_dynamodb_table" "deploys" {
  #checkov:skip=CKV_AWS_119:Encrypted with kms_key_arn when given, else with the AWS managed key aws/dynamodb, as the queues fall back to SSE-SQS.
  name         = local.deploys_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# One small item per distribution: hourly path counts of the last 24 hours and a revision for the
# conditional write that makes racing containers count once (lambda_src/cf_invalidator/aws/spend_guard.py).
resource "aws_dynamodb_table" "spend_guard" {
  #checkov:skip=CKV_AWS_119:Encrypted with kms_key_arn when given, else with the AWS managed key aws/dynamodb, as the queues fall back to SSE-SQS; a key of the module's own would cost $1 a month for counters.
  count = var.max_paths_per_day == null ? 0 : 1

  name         = local.spend_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "distribution_id"

  attribute {
    name = "distribution_id"
    type = "S"
  }

  # An item idle for two days (its distribution gone from the module) is deleted by DynamoDB, free.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # kms_key_arn when given; otherwise the AWS managed key aws/dynamodb (no key policy to write).
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# --- Dashboard --------------------------------------------------------------------------------------------

locals {
  # Each metric widget of the module's own metrics: title, metric names, statistic.
  metric_widgets = [
    { title = "Paths billed (wildcards among them)", metrics = ["PathsBilled", "WildcardPaths"], stat = "Sum" },
    { title = "Invalidations and keys", metrics = ["InvalidationsCreated", "KeysInvalidated"], stat = "Sum" },
    { title = "Left out by change detection", metrics = ["UnchangedSkipped", "NewObjectsSkipped", "ChangesUnverified"], stat = "Sum" },
    { title = "Change to invalidation (s), oldest change per batch", metrics = ["ChangeToInvalidationSeconds"], stat = "Maximum" },
    { title = "Waits on CloudFront's quotas, requests turned /* by the spend guard", metrics = ["QuotaWaits", "SpendGuarded"], stat = "Sum" },
  ]
  service_widgets = [
    {
      title = "Queue: messages waiting, dead letters"
      stat  = "Maximum"
      metrics = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.this.name, { label = "queue" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letter.name, { label = "dead-letter queue" }],
      ]
    },
    {
      title   = "Queue: age of the oldest message (s)"
      stat    = "Maximum"
      metrics = [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.this.name]]
    },
    {
      title   = "Function errors"
      stat    = "Sum"
      metrics = [["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.this.function_name]]
    },
    {
      title = "Function duration (ms)"
      stat  = "Maximum"
      metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.this.function_name, { stat = "Average", label = "average" }],
        ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.this.function_name, { label = "maximum" }],
      ]
    },
  ]
  widgets = concat(
    [
      for w in local.metric_widgets : {
        title = w.title
        stat  = w.stat
        metrics = [
          for pair in setproduct(w.metrics, keys(local.distribution_series)) :
          [var.metrics_namespace, pair[0], "DistributionId", local.distribution_series[pair[1]], { label = "${pair[0]} ${pair[1]}" }]
        ]
      }
    ],
    local.service_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stat    = w.stat
          period  = 300
          metrics = w.metrics
        }
      }
    ]
  })
}

# --- Alarm on paths billed a day ---------------------------------------------------------------------------

# PutMetricAlarm allows a period of a day (Period x EvaluationPeriods up to 7 days for periods of an hour
# or more): the sum of one 86,400 s period is the paths billed in the 24 hours the alarm evaluates.
resource "aws_cloudwatch_metric_alarm" "paths_billed" {
  for_each = var.paths_billed_alarm_threshold == null ? {} : local.distribution_series

  alarm_name          = "${var.name}-paths-billed-${each.key}"
  alarm_description   = "Distribution ${each.value} (${each.key}) was billed more than ${var.paths_billed_alarm_threshold} invalidation paths in 24 hours ($0.005 each past 1,000 a month); see the function's invalidation_created and spend_guard log lines."
  namespace           = var.metrics_namespace
  metric_name         = "PathsBilled"
  dimensions          = { DistributionId = each.value }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.paths_billed_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}
