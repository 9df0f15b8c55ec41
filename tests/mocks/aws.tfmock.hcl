# Known values for what AWS would compute, so that plans show whole ARNs and policies.
mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

# The module reads the provider's region as `id` (valid in provider 5.x and 6.x).
mock_data "aws_region" {
  defaults = {
    id = "eu-west-1"
  }
}

# The site bucket (the runs' "example-site") is in the module's region unless a run overrides it; the
# module reads the bucket's region from its regional domain name (valid in provider 5.x and 6.x).
mock_data "aws_s3_bucket" {
  defaults = {
    bucket_regional_domain_name = "example-site.s3.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target          = aws_sqs_queue.this
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:site-invalidator"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator"
  }
}

override_resource {
  target          = aws_sqs_queue.dead_letter
  override_during = plan
  values = {
    arn  = "arn:aws:sqs:eu-west-1:123456789012:site-invalidator-dlq"
    id   = "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator-dlq"
    name = "site-invalidator-dlq"
    url  = "https://sqs.eu-west-1.amazonaws.com/123456789012/site-invalidator-dlq"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.this
  override_during = plan
  values = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/site-invalidator"
  }
}

override_resource {
  target          = aws_cloudwatch_event_rule.this
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:rule/site-invalidator"
  }
}
