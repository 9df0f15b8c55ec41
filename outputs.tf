output "alarm_arns" {
  description = "ARNs of the module's CloudWatch alarms, by alarm name (dead letters, queue age, function errors, and paths billed per distribution when paths_billed_alarm_threshold is set)."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.paths_billed : alarm.alarm_name => alarm.arn },
  )
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null unless create_dashboard is true."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}

output "deploys_table_name" {
  description = "Name of the DynamoDB table where changes wait for their deploy to go quiet (the deploy inbox)."
  value       = aws_dynamodb_table.deploys.name
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue: events whose invalidation kept failing (watched by the alarm)."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (the CloudWatch QueueName dimension)."
  value       = aws_sqs_queue.dead_letter.name
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue, to inspect or redrive failed events."
  value       = aws_sqs_queue.dead_letter.url
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule that sends the bucket's events to the queue; null unless notification_mode is \"eventbridge\"."
  value       = one(aws_cloudwatch_event_rule.this[*].arn)
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping from the queue to the function (to disable or inspect it)."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "function_arn" {
  description = "ARN of the invalidation Lambda function."
  value       = aws_lambda_function.this.arn
}

output "function_name" {
  description = "Name of the invalidation Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "log_group_arn" {
  description = "ARN of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function (JSON lines, one per invalidation decision)."
  value       = aws_cloudwatch_log_group.this.name
}

output "queue_arn" {
  description = "ARN of the event queue; with notification_mode \"none\", where to send the bucket's object created and removed notifications."
  value       = aws_sqs_queue.this.arn
}

output "queue_name" {
  description = "Name of the event queue (the CloudWatch QueueName dimension)."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "URL of the event queue (its policy admits S3 events from the bucket, or the module's EventBridge rule)."
  value       = aws_sqs_queue.this.url
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's IAM role: the module's name, a dash and the region."
  value       = aws_iam_role.this.name
}

output "spend_guard_table_name" {
  description = "Name of the DynamoDB table counting each distribution's paths for the spend guard; null when max_paths_per_day is null."
  value       = one(aws_dynamodb_table.spend_guard[*].name)
}
