variable "bucket_name" {
  type        = string
  description = "Name of the existing S3 bucket that holds the site."
}

variable "distribution_id" {
  type        = string
  description = "Id of the existing CloudFront distribution in front of the bucket."
}

variable "name" {
  type        = string
  description = "Name of the invalidation function and prefix of the module's other resources."
  default     = "site-invalidator"
}

variable "region" {
  type        = string
  description = "AWS region of the bucket."
  default     = "eu-west-1"
}
