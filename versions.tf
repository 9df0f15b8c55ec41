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
      #   ok_actions, data aws_s3_bucket region, data aws_region name .................... 3.x or older
      # Below 6.0: the 6.x upgrade guide was not checked (data aws_region "name" and data aws_s3_bucket
      # "region" are read here, and 6.x reworks region handling).
      version = ">= 5.76.0, < 6.0"
    }
  }
}
