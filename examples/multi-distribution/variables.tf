variable "alarm_actions" {
  type        = list(string)
  description = "ARNs (e.g. an SNS topic) told when invalidations end in the dead-letter queue."
  default     = []
}

variable "bucket_name" {
  type        = string
  description = "Name of the existing S3 bucket that holds the site and, under docs/, the documentation."
}

variable "docs_distribution_id" {
  type        = string
  description = "Id of the existing CloudFront distribution serving the bucket's docs/ prefix."
}

variable "name" {
  type        = string
  description = "Name of the invalidation function and prefix of the module's other resources."
  default     = "site-and-docs-invalidator"
}

variable "region" {
  type        = string
  description = "AWS region of the bucket."
  default     = "eu-west-1"
}

variable "site_distribution_id" {
  type        = string
  description = "Id of the existing CloudFront distribution serving the bucket's root."
}
