# S3 bucket events -> SQS queue -> Lambda -> the deploy inbox (DynamoDB) -> once quiet, CreateInvalidation.
# The Lambda's flush timers are delayed messages on the same queue (docs/deploy-flush.md).
# Failed messages return to the queue and, after maxReceiveCount receives, rest in the dead-letter queue.
# Alarms: messages in the dead-letter queue, a queue nobody consumes, invocations that failed as a whole.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# The provider's region is read as `id`: valid and undeprecated in provider 5.x and 6.x alike (6.x deprecates
# `name` for `region`, which 5.x lacks). tests/python/test_provider_schemas.py holds every read to both.
data "aws_region" "current" {}

# The bucket's region: S3 sends notifications, and EventBridge the bucket's events, to that region only.
# Mode "none" does not read the bucket: the module touches nothing of it there, and S3 itself refuses a
# notification to a queue in another region when the user wires it.
data "aws_s3_bucket" "this" {
  count = var.notification_mode == "none" ? 0 : 1

  bucket = var.bucket_name
}

locals {
  package    = "${path.module}/dist/cf_invalidator.zip"
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  # The queue's visibility timeout must cover the batching window plus every retry of a timed-out invocation.
  visibility_timeout_seconds = 6 * var.lambda_timeout + var.batching_window_seconds
  # Who sends bucket events to the queue: S3 itself, or (eventbridge mode) the module's rule.
  event_sender = var.notification_mode == "eventbridge" ? "events.amazonaws.com" : "s3.amazonaws.com"
  # S3 names the bucket's account (aws:SourceAccount) besides the bucket, whose ARN has no account in it;
  # EventBridge is admitted by the rule's ARN alone (AWS's documented condition), which names the account.
  event_conditions = merge(
    { ArnEquals = { "aws:SourceArn" = local.event_source } },
    var.notification_mode == "eventbridge" ? {} : {
      StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
    },
  )
  event_source = var.notification_mode == "eventbridge" ? aws_cloudwatch_event_rule.this[0].arn : local.bucket_arn
  # The dead-letter queue's ARN from its name, known at plan time (the function's environment holds it).
  dead_letter_queue_arn = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:${var.name}-dlq"
  # Changes to what a viewer gets: created or overwritten, deleted, expired by a lifecycle rule.
  s3_events = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"]
  # The most SQS keeps a message. A message moved to the dead-letter queue keeps its first enqueue time,
  # so both queues keep it 14 days from the bucket's event, consumed or not.
  retention_seconds = 14 * 24 * 3600
  # The bucket's own region, from its regional domain name "<bucket>.s3.<region>.<DNS suffix>", which both
  # provider majors build from the bucket's region (6.x's `region` is the region the data source queries;
  # 6.x's `bucket_region` is absent from 5.x). Null, and no check, if the name holds no region.
  bucket_region = one(flatten([
    for bucket in data.aws_s3_bucket.this :
    regexall("^\\.s3\\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\\.", trimprefix(bucket.bucket_regional_domain_name, var.bucket_name))
  ]))
}

# --- Queues ---------------------------------------------------------------------------------------------

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = local.visibility_timeout_seconds
  message_retention_seconds  = local.retention_seconds
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  kms_master_key_id          = var.kms_key_arn
  # No redrive_allow_policy on the dead-letter queue: the redrive policy alone is enough.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = 5
  })
  tags = var.tags

  lifecycle {
    precondition {
      condition     = !var.enable_bucket_eventbridge || var.notification_mode == "eventbridge"
      error_message = "enable_bucket_eventbridge = true only works with notification_mode = \"eventbridge\"; remove it or set that mode."
    }

    precondition {
      condition     = local.bucket_region == null || local.bucket_region == data.aws_region.current.id
      error_message = "Bucket ${var.bucket_name} is in ${coalesce(local.bucket_region, "?")} but this module's provider is in ${data.aws_region.current.id}: S3 and EventBridge deliver a bucket's events only to a queue in the bucket's region. Give the module a provider for ${coalesce(local.bucket_region, "?")} (providers = { aws = aws.<alias> })."
    }
  }
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = local.retention_seconds # time to inspect and redrive
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "BucketEventsFromThisAccount"
      Effect    = "Allow"
      Principal = { Service = local.event_sender }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.this.arn
      Condition = local.event_conditions
    }]
  })
}

# Mode "eventbridge": what the rule could not deliver to the queue, EventBridge sends here (the rule only).
resource "aws_sqs_queue_policy" "dead_letter" {
  count = var.notification_mode == "eventbridge" ? 1 : 0

  queue_url = aws_sqs_queue.dead_letter.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "UndeliveredEventsFromTheRule"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this[0].arn } }
    }]
  })
}

# --- Bucket events: one of three modes --------------------------------------------------------------------

# S3 keeps ONE notification configuration per bucket: this resource replaces whatever the bucket had
# (mode "s3"), or, with enable_bucket_eventbridge, replaces it with "send everything to EventBridge".
resource "aws_s3_bucket_notification" "this" {
  count = var.notification_mode == "s3" || var.enable_bucket_eventbridge ? 1 : 0

  bucket      = var.bucket_name
  eventbridge = var.enable_bucket_eventbridge

  dynamic "queue" {
    for_each = var.notification_mode == "s3" ? [aws_sqs_queue.this.arn] : []
    content {
      queue_arn = queue.value
      events    = local.s3_events
    }
  }

  # S3 sends a test event when the configuration is written; the queue must already admit it.
  depends_on = [aws_sqs_queue_policy.this]
}

resource "aws_cloudwatch_event_rule" "this" {
  count = var.notification_mode == "eventbridge" ? 1 : 0

  name        = var.name
  description = "Object Created / Object Deleted events of ${var.bucket_name}, to the invalidation queue"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created", "Object Deleted"]
    detail        = { bucket = { name = [var.bucket_name] } }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = var.notification_mode == "eventbridge" ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "invalidation-queue"
  arn       = aws_sqs_queue.this.arn

  # EventBridge's longest: retried for 24 hours, then kept in the dead-letter queue, not dropped.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }

  depends_on = [aws_sqs_queue_policy.dead_letter]
}

# --- Lambda ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days input; 30 days suits an invalidation log.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_group_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_50:X-Ray adds cost and a Resource "*" grant; the JSON logs trace every invalidation.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the event source mapping's maximum_concurrency; reserving it would take from the account's pool.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by SQS only; failed messages reach the queue's dead-letter queue, a function DLQ would never be used.
  #checkov:skip=CKV_AWS_117:Calls only the public CloudFront API; a VPC would add a NAT gateway and nothing to protect.
  #checkov:skip=CKV_AWS_173:The environment holds distribution ids and settings, no secrets; Lambda encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_272:The package is the reproducible zip committed with the module; code signing would need a signer profile per user.
  function_name    = var.name
  description      = "Invalidates CloudFront paths for changed objects of ${var.bucket_name}"
  role             = aws_iam_role.this.arn
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  handler          = "cf_invalidator.handler.lambda_handler"
  runtime          = "python3.13"
  architectures    = ["arm64"]
  memory_size      = var.lambda_memory_size
  timeout          = var.lambda_timeout

  environment {
    variables = merge(
      {
        BUCKET_NAME                = var.bucket_name
        DEAD_LETTER_QUEUE_ARN      = local.dead_letter_queue_arn
        DISTRIBUTIONS              = jsonencode(var.distributions)
        ENABLE_METRICS             = tostring(var.enable_metrics)
        EVICTIONS_PER_PATH         = tostring(var.evictions_per_path)
        INBOX_TABLE                = local.deploys_table_name
        INDEX_DOCUMENT             = var.index_document
        INVALIDATE_NEW_OBJECTS     = tostring(var.invalidate_new_objects)
        MAX_PATHS_PER_INVALIDATION = tostring(var.max_paths_per_invalidation)
        MAX_WAIT_SECONDS           = tostring(var.max_wait_seconds)
        METRICS_NAMESPACE          = var.metrics_namespace
        QUIET_SECONDS              = tostring(var.quiet_seconds)
        SKIP_UNCHANGED_OBJECTS     = tostring(var.skip_unchanged_objects)
        VERIFY_DISTRIBUTIONS       = tostring(var.verify_distributions)
      },
      var.max_paths_per_day == null ? {} : {
        MAX_PATHS_PER_DAY            = tostring(var.max_paths_per_day)
        SPEND_GUARD_INTERVAL_SECONDS = tostring(var.spend_guard_interval_seconds)
        SPEND_GUARD_TABLE            = local.spend_table_name
      },
    )
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  # The function logs from its first invocation: its permissions exist before it does, and its inbox.
  # (The environment names the table and the dead-letter queue by their known names, so that a plan
  # shows the whole environment rather than values known after apply.)
  depends_on = [aws_iam_role_policy.this, aws_dynamodb_table.deploys, aws_sqs_queue.dead_letter]

  lifecycle {
    precondition {
      condition     = var.paths_billed_alarm_threshold == null || var.enable_metrics
      error_message = "paths_billed_alarm_threshold needs enable_metrics = true (the alarm watches the PathsBilled metric the function writes); turn metrics on or remove the threshold."
    }

    precondition {
      condition     = var.max_wait_seconds >= var.quiet_seconds
      error_message = "max_wait_seconds (${var.max_wait_seconds}) must be at least quiet_seconds (${var.quiet_seconds}): a change cannot be flushed before the bucket may be quiet; raise max_wait_seconds or lower quiet_seconds."
    }

    precondition {
      condition     = var.skip_unchanged_objects || var.invalidate_new_objects
      error_message = "invalidate_new_objects = false needs skip_unchanged_objects = true (new objects are told apart by their version history); remove it or turn skip_unchanged_objects on."
    }
  }
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  tags = var.tags

  # Lambda checks the role's queue permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.batch_size <= 10 || var.batching_window_seconds >= 1
      error_message = "A batch_size above 10 needs batching_window_seconds of at least 1 (an AWS rule); raise the window or lower the batch size."
    }
  }
}

# --- Alarms ---------------------------------------------------------------------------------------------

locals {
  # Each alarm: what it watches and when it fires. Every one notifies alarm_actions and ok_actions.
  alarms = {
    "dead-letters" = {
      description = "S3 changes whose CloudFront invalidation failed wait in ${aws_sqs_queue.dead_letter.name}; see the function's logs, then redrive."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.dead_letter.name }
      statistic   = "Maximum"
      threshold   = 0
    }
    # A queue nobody consumes (mapping disabled, key denied, Lambda throttled) moves nothing to the
    # dead-letter queue: only the age of its oldest message tells, long before the retention drops it.
    "queue-age" = {
      description = "The oldest S3 change in ${aws_sqs_queue.this.name} waits longer than ${var.queue_age_alarm_seconds} s: the queue is not being consumed; check the event source mapping and the function."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = aws_sqs_queue.this.name }
      statistic   = "Maximum"
      threshold   = var.queue_age_alarm_seconds
    }
    "errors" = {
      description = "Invocations of ${aws_lambda_function.this.function_name} failed as a whole (crash, timeout); their messages are retried, see the function's logs."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      statistic   = "Sum"
      threshold   = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

# The dead-letter alarm was the module's only alarm before.
moved {
  from = aws_cloudwatch_metric_alarm.this
  to   = aws_cloudwatch_metric_alarm.this["dead-letters"]
}
