terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The floor is the newest of what the module uses (tested on 5.100.0; see README "Provider versions"):
      #   aws_lambda_function runtime = "python3.13" ........... 5.76.0 (the provider validates runtime)
      #   aws_lambda_event_source_mapping tags ................. 5.70.0 (as remembered; below 5.76.0)
      #   aws_lambda_function logging_config ................... 5.32.0
      #   aws_lambda_event_source_mapping scaling_config ....... 4.x
      #   aws_s3_bucket_notification eventbridge ............... 3.x
      #   aws_sqs_queue sqs_managed_sse_enabled ................ 3.x/4.0
      #   aws_cloudwatch_event_target retry_policy, dead_letter_config, aws_lambda_function architectures,
      #   aws_iam_role path, permissions_boundary, aws_cloudwatch_log_group kms_key_id, aws_cloudwatch_metric_alarm
      #   ok_actions, data aws_s3_bucket bucket_regional_domain_name, data aws_region id ..... 3.x or older
      # Both majors, 5.x and 6.x: every attribute the module sets or reads exists, undeprecated, in both
      # (tests/python/test_provider_schemas.py checks them against 5.x's schema and 6.x's generated one).
      version = ">= 5.76.0, < 7.0"
    }
  }
}
