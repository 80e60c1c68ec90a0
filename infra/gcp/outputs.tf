output "function_uri" {
  description = "HTTPS endpoint of the scale function (its Cloud Run service URL); invoking it needs an OIDC token with roles/run.invoker."
  value       = google_cloudfunctions2_function.scale.service_config[0].uri
}

output "function_name" {
  description = "Name of the scale function."
  value       = google_cloudfunctions2_function.scale.name
}

output "runtime_service_account" {
  description = "Service account the function runs as."
  value       = google_service_account.runtime.email
}

output "invoker_service_account" {
  description = "Service account Cloud Scheduler invokes the function as."
  value       = google_service_account.invoker.email
}

output "scheduler_job_name" {
  description = "Cloud Scheduler job that starts an invocation every minute (`gcloud scheduler jobs run <name> --location <region>` runs one now)."
  value       = google_cloud_scheduler_job.scale.name
}

output "config_secret" {
  description = "Secret Manager secret holding the config document."
  value       = google_secret_manager_secret.config.id
}

output "managed_groups" {
  description = "Instance groups the function may read (shadow, direct) and resize (direct), as IAM resource names."
  value = {
    read   = local.read_groups_by_project
    resize = local.resize_groups_by_project
  }
}

output "rotate_function_uri" {
  description = "HTTPS endpoint of the rotate function (POST runs or resumes a rotation; needs an OIDC token with roles/run.invoker); null when the config names no executorSecret.gcpSecretManager."
  value       = local.rotation_enabled ? google_cloudfunctions2_function.rotate[0].service_config[0].uri : null
}

output "rotate_function_names" {
  description = "The HTTP rotate function and the one Secret Manager's SECRET_ROTATE triggers; empty without a rotated secret."
  value = local.rotation_enabled ? {
    http  = google_cloudfunctions2_function.rotate[0].name
    event = google_cloudfunctions2_function.rotate_on_secret_event[0].name
  } : {}
}

output "rotate_service_account" {
  description = "Service account the rotate functions run as; null without a rotated secret."
  value       = local.rotation_enabled ? google_service_account.rotate[0].email : null
}

output "rotate_invoker_service_account" {
  description = "Service account Cloud Scheduler and the secret-event trigger invoke the rotate functions as; null without a rotated secret."
  value       = local.rotation_enabled ? google_service_account.rotate_invoker[0].email : null
}

output "rotation_topic" {
  description = "Pub/Sub topic the executor secret must list for Secret Manager's rotation notifications; null without a rotated secret."
  value       = local.rotation_enabled ? google_pubsub_topic.rotation[0].id : null
}

output "rotation_setup_command" {
  description = "Run once (adjust the period and first time) so Secret Manager sends SECRET_ROTATE to the topic; this Terraform does not manage the secret. Null without a rotated secret."
  value = local.rotation_enabled ? join(" ", [
    "gcloud secrets update ${local.executor_secret.secret}",
    "--project=${local.executor_secret.project}",
    "--add-topics=${google_pubsub_topic.rotation[0].id}",
    # 30 days; Secret Manager allows a period of at least an hour and a first rotation at least 5 minutes ahead.
    "--rotation-period=2592000s",
    "--next-rotation-time=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)",
  ]) : null
}

output "rotation_scheduler_job_name" {
  description = "Cloud Scheduler job that starts a rotation on rotation_schedule (`gcloud scheduler jobs run <name> --location <region>` runs one now); null when unscheduled."
  value       = one(google_cloud_scheduler_job.rotate[*].name)
}

output "rolled_groups" {
  description = "Instance groups the rotate functions may roll after a rotation, as IAM resource names, by project."
  value       = local.roll_groups_by_project
}

output "webhook_url" {
  description = "HTTPS endpoint of the webhook: GET <url>/health reports the fleets' health, POST <url>/rotate rotates the executor secret. With webhook.auth iam send an identity token (`gcloud auth print-identity-token`); with hmac sign each request."
  value       = google_cloudfunctions2_function.webhook.service_config[0].uri
}

output "webhook_auth" {
  description = "How the webhook authenticates callers, as the config document says: iam or hmac."
  value       = local.webhook_auth
}

output "health_function_names" {
  description = "The scheduled health check and the webhook."
  value = {
    check   = google_cloudfunctions2_function.health_check.name
    webhook = google_cloudfunctions2_function.webhook.name
  }
}

output "health_service_account" {
  description = "Service account the health functions run as."
  value       = google_service_account.health.email
}

output "health_scheduler_job_name" {
  description = "Cloud Scheduler job that starts a health check on health_schedule (`gcloud scheduler jobs run <name> --location <region>` runs one now)."
  value       = google_cloud_scheduler_job.health.name
}

output "health_groups" {
  description = "Instance groups the health functions may read (every GCP fleet's) and recreate VMs in (direct fleets'), as IAM resource names, by project."
  value = {
    read     = local.health_groups_by_project
    recreate = local.health_repair_groups_by_project
  }
}

output "monitoring_dashboard" {
  description = "The id of the fleetplane dashboard in the metrics project (Monitoring > Dashboards); null with enable_dashboard = false."
  value       = one(google_monitoring_dashboard.fleetplane[*].id)
}

output "alert_policies" {
  description = "The alert policies' names (projects/<project>/alertPolicies/<id>): the cycle policy, one capacity policy per fleet, the rotation policy (null without rotation); empty or null with enable_alert_policies = false."
  value = {
    no_successful_cycle           = one(google_monitoring_alert_policy.no_successful_cycle[*].name)
    queue_deep_no_capacity_change = { for fleet, policy in google_monitoring_alert_policy.queue_deep_no_capacity_change : fleet => policy.name }
    rotation_failed               = one(google_monitoring_alert_policy.rotation_failed[*].name)
  }
}
