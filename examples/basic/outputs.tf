output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.cloudfront_invalidation.dead_letter_queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue, to inspect or redrive failed events."
  value       = module.cloudfront_invalidation.dead_letter_queue_url
}

output "function_arn" {
  description = "ARN of the invalidation Lambda function."
  value       = module.cloudfront_invalidation.function_arn
}

output "function_name" {
  description = "Name of the invalidation Lambda function."
  value       = module.cloudfront_invalidation.function_name
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = module.cloudfront_invalidation.log_group_name
}

output "queue_arn" {
  description = "ARN of the event queue."
  value       = module.cloudfront_invalidation.queue_arn
}

output "queue_url" {
  description = "URL of the event queue."
  value       = module.cloudfront_invalidation.queue_url
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = module.cloudfront_invalidation.role_arn
}
