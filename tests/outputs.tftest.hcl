# The outputs users wire alarms, dashboards and runbooks with.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name        = "site-invalidator"
  bucket_name = "example-site"
  distributions = {
    www = { id = "E2QWRUHAPOMQZL" }
  }
}

run "outputs_name_the_queues_role_log_group_and_mapping" {
  command = plan

  override_resource {
    target          = aws_lambda_event_source_mapping.this
    override_during = plan
    values          = { uuid = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE" }
  }

  assert {
    condition     = output.queue_name == "site-invalidator" && output.dead_letter_queue_name == "site-invalidator-dlq"
    error_message = "queue_name and dead_letter_queue_name must be the queues' names."
  }

  assert {
    condition     = output.role_name == "site-invalidator-eu-west-1"
    error_message = "role_name must be the role's name, <name>-<region>."
  }

  assert {
    condition     = output.log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/site-invalidator"
    error_message = "log_group_arn must be the log group's ARN."
  }

  assert {
    condition     = output.event_source_mapping_uuid == "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
    error_message = "event_source_mapping_uuid must be the mapping's UUID."
  }

  assert {
    condition     = output.event_rule_arn == null
    error_message = "event_rule_arn must be null outside mode eventbridge."
  }
}

run "alarm_arns_maps_each_alarm_name_to_its_arn" {
  command = plan

  override_resource {
    target          = aws_cloudwatch_metric_alarm.this["dead-letters"]
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-dead-letters" }
  }

  override_resource {
    target          = aws_cloudwatch_metric_alarm.this["queue-age"]
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-queue-age" }
  }

  override_resource {
    target          = aws_cloudwatch_metric_alarm.this["errors"]
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-errors" }
  }

  assert {
    condition = output.alarm_arns == {
      "site-invalidator-dead-letters" = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-dead-letters"
      "site-invalidator-queue-age"    = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-queue-age"
      "site-invalidator-errors"       = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:site-invalidator-errors"
    }
    error_message = "alarm_arns must map each alarm's name to its own ARN."
  }
}

run "event_rule_arn_is_the_rules_arn_in_mode_eventbridge" {
  command = plan

  variables {
    notification_mode = "eventbridge"
  }

  assert {
    condition     = output.event_rule_arn == "arn:aws:events:eu-west-1:123456789012:rule/site-invalidator"
    error_message = "event_rule_arn must be the module's rule's ARN in mode eventbridge."
  }
}
