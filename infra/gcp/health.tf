# The health functions (functions/gcp/health.ts), both served by health.js: `healthCheck`, which Cloud Scheduler calls
# every few minutes to judge every GCP fleet's VMs against the executors' heartbeats and recreate the broken VMs of
# direct fleets, and `webhook` (GET /health, POST /rotate), authenticated by IAM or by HMAC signature as the config
# document's webhook.auth says. Both run as their own service account, which holds nothing of the scale function's.

locals {
  # Every GCP fleet with a group is judged, whatever its mode; only direct fleets' VMs are recreated.
  health_groups_by_project = {
    for project in distinct([for group in local.gcp_groups : group.project]) :
    project => distinct([for group in local.gcp_groups : group.name if group.project == project])
  }
  health_repair_groups_by_project = {
    for project in distinct([for group in local.gcp_groups : group.project if group.mode == "direct"]) :
    project => distinct([for group in local.gcp_groups : group.name if group.project == project && group.mode == "direct"])
  }

  # The same document the function reads: who may call the webhook follows how the function authenticates.
  webhook_auth        = try(local.config.webhook.auth, "iam")
  webhook_secret_name = local.webhook_auth == "hmac" ? try(local.config.webhook.secret.gcpSecretManager, null) : null
  # projects/<p>/secrets/<s>/versions/<v>: the config parser accepts no other form.
  webhook_secret = local.webhook_secret_name == null ? null : {
    project = split("/", local.webhook_secret_name)[1]
    secret  = split("/", local.webhook_secret_name)[3]
  }

  health_member           = "serviceAccount:${google_service_account.health.email}"
  webhook_function_name   = "${var.health_function_name}-webhook"
  health_timeout_seconds  = 300
  health_attempt_deadline = "${local.health_timeout_seconds + 60}s"
}

# --- Service accounts ------------------------------------------------------------------------------------------------

resource "google_service_account" "health" {
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.health_service_account_id
  display_name = "fleetplane health functions"
  description  = "Runs ${var.health_function_name} and ${local.webhook_function_name}: reads the fleets' groups and the executors' heartbeats, recreates broken VMs of direct fleets, writes the health counts and, with an executor secret, rotates it."
}

# Cloud Scheduler signs its OIDC token as this account, which holds roles/run.invoker on the health check only: neither
# the scale function's invoker nor the webhook's callers can start a check that recreates VMs.
resource "google_service_account" "health_invoker" {
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.health_invoker_service_account_id
  display_name = "fleetplane health check invoker"
  description  = "Cloud Scheduler's identity for invoking ${var.health_function_name}."
}

# --- Cloud Monitoring: the health counts -----------------------------------------------------------------------------

# Writing the fleet_instances and unexplained_executors series creates their descriptors with timeSeries.create alone;
# the health functions read no series back.
resource "google_project_iam_custom_role" "health_metrics" {
  depends_on = [google_project_service.required]

  project     = local.metrics_project
  role_id     = "${var.custom_role_prefix}HealthMetricsWriter"
  title       = "fleetplane health metric writer"
  description = "projects.timeSeries.create for the fleets' health counts."
  permissions = ["monitoring.timeSeries.create"]
}

resource "google_project_iam_member" "health_metrics" {
  project = local.metrics_project
  role    = google_project_iam_custom_role.health_metrics.name
  member  = local.health_member
}

# --- Instance groups: read every fleet's, recreate VMs of direct fleets' only ----------------------------------------

# As for the scale function: Compute Engine has no IAM policy on a managed instance group, so these are project-level
# grants narrowed by an IAM Condition on the group names (restrict_group_access). instanceGroupManagers.get covers get
# and listManagedInstances, zonal and regional.
resource "google_project_iam_custom_role" "health_group_reader" {
  for_each = local.health_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}HealthGroupReader"
  title       = "fleetplane health group reader"
  description = "Reads the managed instances of the groups fleetplane judges."
  permissions = ["compute.instanceGroupManagers.get"]
}

resource "google_project_iam_member" "health_group_reader" {
  for_each = local.health_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.health_group_reader[each.key].name
  member  = local.health_member

  dynamic "condition" {
    for_each = var.restrict_group_access ? [each.value] : []
    content {
      title       = "fleetplane judged groups"
      description = "The groups of the fleetplane config's GCP fleets."
      expression  = join(" || ", [for name in condition.value : "resource.name == \"${name}\""])
    }
  }

  lifecycle {
    precondition {
      # IAM allows at most 12 logical operators in one condition expression.
      condition     = !var.restrict_group_access || length(each.value) <= 13
      error_message = "More than 13 groups in ${each.key}: one IAM Condition cannot name them all; split the deployment or set restrict_group_access = false."
    }
  }
}

# recreateInstances (zonal and regional) checks compute.instanceGroupManagers.update on the group. Given for direct
# fleets only: a shadow or metrics fleet's VMs are never recreated by fleetplane.
resource "google_project_iam_custom_role" "health_group_repairer" {
  for_each = local.health_repair_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}HealthGroupRepairer"
  title       = "fleetplane health group repairer"
  description = "Recreates broken VMs of fleetplane's direct fleets."
  permissions = ["compute.instanceGroupManagers.update"]
}

resource "google_project_iam_member" "health_group_repairer" {
  for_each = local.health_repair_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.health_group_repairer[each.key].name
  member  = local.health_member

  dynamic "condition" {
    for_each = var.restrict_group_access ? [each.value] : []
    content {
      title       = "fleetplane direct groups"
      description = "The direct groups of the fleetplane config."
      expression  = join(" || ", [for name in condition.value : "resource.name == \"${name}\""])
    }
  }

  lifecycle {
    precondition {
      condition     = !var.restrict_group_access || length(each.value) <= 13
      error_message = "More than 13 direct groups in ${each.key}: one IAM Condition cannot name them all; split the deployment or set restrict_group_access = false."
    }
  }
}

# Read-only calls around the groups whose resources are not the groups, so unconditional: instances.list for the VMs'
# creation times (an instance without one is never judged broken), the autoscaler a group names, and, where VMs are
# recreated, the recreation's operation (operations.wait checks operations.get).
resource "google_project_iam_custom_role" "health_observer" {
  for_each = local.health_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}HealthObserver"
  title       = "fleetplane health observer"
  description = "Reads VM creation times, autoscalers and recreation operations next to fleetplane's groups."
  permissions = concat(
    ["compute.autoscalers.list", "compute.instances.list"],
    contains(keys(local.health_repair_groups_by_project), each.key) ? ["compute.regionOperations.get", "compute.zoneOperations.get"] : [],
  )
}

resource "google_project_iam_member" "health_observer" {
  for_each = local.health_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.health_observer[each.key].name
  member  = local.health_member
}

# --- Secrets ---------------------------------------------------------------------------------------------------------

resource "google_secret_manager_secret_iam_member" "health_config" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.health_member
}

resource "google_secret_manager_secret_iam_member" "health_token" {
  for_each = local.token_secrets

  project   = each.value.project
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = local.health_member
}

# The webhook's HMAC key(s), read at run time (and again every minute) so a key can be rotated without a redeploy.
resource "google_secret_manager_secret_iam_member" "health_webhook_secret" {
  count = local.webhook_secret == null ? 0 : 1

  project   = local.webhook_secret.project
  secret_id = local.webhook_secret.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = local.health_member
}

# --- Rotation through POST /rotate: rotate.tf's roles, bound to this account too -------------------------------------

resource "google_secret_manager_secret_iam_member" "health_executor_secret" {
  count = local.rotation_enabled ? 1 : 0

  project   = local.executor_secret.project
  secret_id = local.executor_secret.secret
  role      = google_project_iam_custom_role.executor_secret[0].name
  member    = local.health_member
}

resource "google_project_iam_member" "health_group_roller" {
  for_each = local.roll_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.group_roller[each.key].name
  member  = local.health_member

  dynamic "condition" {
    for_each = var.restrict_group_access ? [each.value] : []
    content {
      title       = "fleetplane rolled groups"
      description = "The groups of the fleetplane config that are rolled after a rotation."
      expression  = join(" || ", [for name in condition.value : "resource.name == \"${name}\""])
    }
  }
}

resource "google_project_iam_member" "health_roll_observer" {
  for_each = local.roll_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.roll_observer[each.key].name
  member  = local.health_member
}

resource "google_service_account_iam_member" "health_act_as" {
  for_each = local.rotation_enabled ? toset(var.executor_service_accounts) : toset([])

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = local.health_member
}

# --- Source: health.js with its own package.json ---------------------------------------------------------------------

# As rotate.tf does for rotate.js: health.js registers both health entry points, and the package.json main names it.
data "archive_file" "health_source" {
  type        = "zip"
  output_path = "${path.module}/.build/${var.health_function_name}.zip"

  source {
    filename = "health.js"
    content  = file("${local.bundle_dir}/health.js")
  }

  source {
    filename = "package.json"
    content  = jsonencode(merge(jsondecode(file("${local.bundle_dir}/package.json")), { main = "health.js" }))
  }

  source {
    filename = "package-lock.json"
    content  = file("${local.bundle_dir}/package-lock.json")
  }
}

resource "google_storage_bucket_object" "health_source" {
  name   = "${var.health_function_name}/${data.archive_file.health_source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.health_source.output_path
}

# --- healthCheck: Cloud Scheduler, IAM only --------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "health_check" {
  project     = var.project_id
  name        = var.health_function_name
  location    = var.region
  description = "Judges every GCP fleet's VMs against the executors' heartbeats and recreates broken VMs of direct fleets."
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = "healthCheck"
    service_account = coalesce(var.build_service_account, google_service_account.build.id)

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.health_source.name
      }
    }
  }

  service_config {
    available_memory = var.memory
    # Sourcegraph's executor list, every group read, and the recreations' operations waited for.
    timeout_seconds = local.health_timeout_seconds
    # Two checks at once would both count the same broken VMs against the per-run caps; a tick arriving while one
    # runs is refused, and the next one comes minutes later.
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.health.email

    environment_variables = merge(
      { FLEETPLANE_TIMEOUT_SECONDS = tostring(local.health_timeout_seconds) },
      var.node_options == "" ? {} : { NODE_OPTIONS = var.node_options },
    )

    secret_environment_variables {
      key        = "FLEETPLANE_CONFIG"
      project_id = var.project_id
      secret     = google_secret_manager_secret.config.secret_id
      version    = google_secret_manager_secret_version.config.version
    }

    dynamic "secret_environment_variables" {
      for_each = local.token_env_secret == null ? [] : [local.token_env_secret]
      content {
        key        = "SRC_ACCESS_TOKEN"
        project_id = secret_environment_variables.value.project
        secret     = secret_environment_variables.value.secret
        version    = var.sourcegraph_token_secret_version
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.health_config,
    google_secret_manager_secret_iam_member.health_token,
  ]
}

resource "google_cloud_run_service_iam_member" "health_invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.health_check.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.health_invoker.email}"
}

resource "google_cloud_scheduler_job" "health" {
  project     = var.project_id
  region      = var.region
  name        = var.health_function_name
  description = "Starts one fleetplane health check (judges every fleet; recreates broken VMs of direct fleets)."
  schedule    = var.health_schedule
  time_zone   = var.time_zone
  # Past the function's timeout plus a cold start, so the outcome recorded is the check's own.
  attempt_deadline = local.health_attempt_deadline

  # The next tick is a fresh check minutes later; a retry could only repeat this one's answer.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.health_check.service_config[0].uri
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.health_invoker.email
      audience              = google_cloudfunctions2_function.health_check.service_config[0].uri
    }
  }

  depends_on = [google_project_service.required, google_cloud_run_service_iam_member.health_invoker]
}

# --- webhook: IAM, or HMAC behind a public URL -----------------------------------------------------------------------

resource "google_cloudfunctions2_function" "webhook" {
  project     = var.project_id
  name        = local.webhook_function_name
  location    = var.region
  description = "GET /health reports the fleets' health (JSON, or HTML for a browser); POST /rotate rotates the executor secret. Authenticated by ${local.webhook_auth == "hmac" ? "HMAC signature" : "IAM"}."
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = "webhook"
    service_account = coalesce(var.build_service_account, google_service_account.build.id)

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.health_source.name
      }
    }
  }

  service_config {
    available_memory = var.memory
    # A POST /rotate runs a whole rotation (and starts the rolls without following them).
    timeout_seconds = local.health_timeout_seconds
    # One instance: the HMAC replay guard is in the instance's memory, and a second instance would accept a signature
    # the first has already used. A request arriving while one runs waits or is refused.
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    ingress_settings                 = var.webhook_ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.health.email

    environment_variables = merge(
      { FLEETPLANE_TIMEOUT_SECONDS = tostring(local.health_timeout_seconds) },
      var.node_options == "" ? {} : { NODE_OPTIONS = var.node_options },
    )

    secret_environment_variables {
      key        = "FLEETPLANE_CONFIG"
      project_id = var.project_id
      secret     = google_secret_manager_secret.config.secret_id
      version    = google_secret_manager_secret_version.config.version
    }

    dynamic "secret_environment_variables" {
      for_each = local.token_env_secret == null ? [] : [local.token_env_secret]
      content {
        key        = "SRC_ACCESS_TOKEN"
        project_id = secret_environment_variables.value.project
        secret     = secret_environment_variables.value.secret
        version    = var.sourcegraph_token_secret_version
      }
    }
  }

  lifecycle {
    # With hmac every caller may reach the code (allUsers below), so a list of invokers would grant nothing.
    precondition {
      condition     = local.webhook_auth != "hmac" || length(var.webhook_invokers) == 0
      error_message = "webhook_invokers is set, but the config document's webhook.auth is hmac: the webhook is public and checks signatures itself. Drop webhook_invokers, or use webhook.auth: iam."
    }
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.health_config,
    google_secret_manager_secret_iam_member.health_token,
    google_secret_manager_secret_iam_member.health_webhook_secret,
  ]
}

# webhook.auth iam: Cloud Run admits only callers with an identity token for one of these principals (never allUsers
# or allAuthenticatedUsers; see the variable's validation), and the code trusts every request that reaches it.
resource "google_cloud_run_service_iam_member" "webhook_invoker" {
  for_each = local.webhook_auth == "iam" ? toset(var.webhook_invokers) : toset([])

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.webhook.service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# webhook.auth hmac: the callers hold a key, not a Google identity, so Cloud Run must let every request through and
# the function refuses any without a fresh, unused signature. Required, not optional: without it Cloud Run answers 403
# before the code runs. Organisations enforcing domain-restricted sharing refuse this grant.
resource "google_cloud_run_service_iam_member" "webhook_public" {
  count = local.webhook_auth == "hmac" ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.webhook.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
