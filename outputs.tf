output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue: events whose invalidation kept failing (watched by the alarm)."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue, to inspect or redrive failed events."
  value       = aws_sqs_queue.dead_letter.url
}

output "function_arn" {
  description = "ARN of the invalidation Lambda function."
  value       = aws_lambda_function.this.arn
}

output "function_name" {
  description = "Name of the invalidation Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "log_group_name" {
  description = "CloudWatch log group of the function (JSON lines, one per invalidation decision)."
  value       = aws_cloudwatch_log_group.this.name
}

output "queue_arn" {
  description = "ARN of the event queue; with notification_mode \"none\", where to send the bucket's object created and removed notifications."
  value       = aws_sqs_queue.this.arn
}

output "queue_url" {
  description = "URL of the event queue (its policy admits S3 events from the bucket, or the module's EventBridge rule)."
  value       = aws_sqs_queue.this.url
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}
