# One bucket behind two CloudFront distributions: the site at the bucket's root, and the docs from its
# docs/ prefix (origin path "/docs"). Events reach the queue through EventBridge, so the bucket's own
# notification configuration stays free for other consumers.

provider "aws" {
  region = var.region
}

# Change detection (skip_unchanged_objects, on by default) needs the bucket versioned, with a
# noncurrent-version expiration: see docs/change-detection.md. This example leaves both to
# whoever manages the bucket (its lifecycle configuration is one document; writing it replaces the rules).
module "cloudfront_invalidation" {
  source = "../.."

  name        = var.name
  bucket_name = var.bucket_name
  distributions = {
    site = { id = var.site_distribution_id }
    docs = { id = var.docs_distribution_id, origin_path = "/docs" }
  }

  notification_mode = "eventbridge"
  # Turns on the bucket's EventBridge delivery. This writes the bucket's notification configuration:
  # leave it false if that configuration is managed elsewhere, and turn EventBridge on there.
  enable_bucket_eventbridge = true

  alarm_actions = var.alarm_actions
  tags          = { site = var.bucket_name }
}
