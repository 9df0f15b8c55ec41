# One bucket behind one CloudFront distribution; S3 notifies the module's queue directly (mode "s3").
# Mode "s3" replaces the bucket's notification configuration: use it only on a bucket with none.

provider "aws" {
  region = var.region
}

module "cloudfront_invalidation" {
  source = "../.."

  name        = var.name
  bucket_name = var.bucket_name
  distributions = {
    site = { id = var.distribution_id }
  }
}
