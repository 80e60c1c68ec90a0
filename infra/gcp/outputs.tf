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
