# fleetplane on GCP: the scale function (Cloud Functions 2nd gen), its Cloud Scheduler tick, two service accounts with
# least privilege, and the config document in Secret Manager; with executorSecret.gcpSecretManager in the config, the
# rotate functions too (rotate.tf). See the README section "Deploying on GCP".

terraform {
  # Preconditions and variable validations need 1.2+; 1.5 is the oldest release still widely supported.
  required_version = ">= 1.5.0"

  required_providers {
    # Every argument used here exists in both the 6.x and 7.x lines (service_config.secret_environment_variables,
    # build_config.service_account, google_cloud_run_service_iam_member); a future major is a deliberate upgrade.
    # 6.13 is the first with condition_prometheus_query_language.disable_metric_validation (monitoring.tf): the
    # alert policies name metrics that exist only after fleetplane's first write.
    google = {
      source  = "hashicorp/google"
      version = ">= 6.13, < 8.0"
    }
    # Only for google_project_service_identity (the Secret Manager and Pub/Sub service agents), which the google
    # provider does not have; used when the rotate functions are deployed.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.13, < 8.0"
    }
    # Zips the bundle that `npm run build` wrote, so no npm install runs in the cloud build.
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
