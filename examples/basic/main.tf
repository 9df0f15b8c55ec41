# One bucket behind one CloudFront distribution; S3 notifies the module's queue directly (mode "s3").
# Mode "s3" replaces the bucket's notification configuration: use it only on a bucket with none.

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
    site = { id = var.distribution_id }
  }
}
