# The rotate functions (functions/gcp/rotate.ts), deployed only when the config document names
# executorSecret.gcpSecretManager: `rotate` (HTTP, IAM-authenticated; Cloud Scheduler when rotation_schedule is set)
# and `rotateOnSecretEvent` (Secret Manager's SECRET_ROTATE notification through the Pub/Sub topic below). Both run as
# their own service account, which holds nothing of the scale function's: the executor secret, the Sourcegraph token
# and the config, and a roll of the fleets' groups.

locals {
  # The same document the function reads: IAM follows the secret it rotates, so the two cannot disagree.
  executor_secret_name = try(local.config.executorSecret.gcpSecretManager, null)
  rotation_enabled     = local.executor_secret_name != null
  # projects/<p>/secrets/<s>: the config parser accepts no other form.
  executor_secret = local.rotation_enabled ? {
    project = split("/", local.executor_secret_name)[1]
    secret  = split("/", local.executor_secret_name)[3]
  } : null

  roll_groups_by_project = local.rotation_enabled ? {
    for project in distinct([for group in local.gcp_groups : group.project if group.roll]) :
    project => distinct([for group in local.gcp_groups : group.name if group.project == project && group.roll])
  } : {}

  rotate_member          = local.rotation_enabled ? "serviceAccount:${google_service_account.rotate[0].email}" : null
  rotate_event_function  = "${var.rotate_function_name}-on-secret-event"
  rotation_topic_name    = "${var.rotate_function_name}-secret-events"
  rotate_timeout_seconds = 300
}

# --- Service accounts ------------------------------------------------------------------------------------------------

resource "google_service_account" "rotate" {
  count      = local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.rotate_service_account_id
  display_name = "fleetplane rotate functions"
  description  = "Runs ${var.rotate_function_name} and ${local.rotate_event_function}: rotates the executor secret, edits Sourcegraph's site configuration and rolls the fleets' groups."
}

# Cloud Scheduler and the Pub/Sub trigger sign their OIDC tokens as this account. It holds roles/run.invoker on the two
# rotate services only: the scale function's invoker, which fires every minute, cannot start a rotation.
resource "google_service_account" "rotate_invoker" {
  count      = local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.rotate_invoker_service_account_id
  display_name = "fleetplane rotate invoker"
  description  = "Cloud Scheduler's and the secret-event trigger's identity for invoking ${var.rotate_function_name} and ${local.rotate_event_function}."
}

# --- The executor secret: only the calls the rotation makes, on that secret only -------------------------------------

# Moving the version aliases is secrets.update (projects.secrets.patch with the etag read by secrets.get). No predefined
# role has it short of roles/secretmanager.admin, which would also let the function delete the secret and rewrite its
# IAM policy; roles/secretmanager.secretVersionManager would add destroy/disable/enable, which the rotation never calls.
# A custom role lives in a project, so it is created in the secret's project and bound on the secret.
resource "google_project_iam_custom_role" "executor_secret" {
  count      = local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project     = local.executor_secret.project
  role_id     = "${var.custom_role_prefix}ExecutorSecretRotator"
  title       = "fleetplane executor secret rotator"
  description = "Adds versions to the executor secret, reads them, and moves its version aliases (current, pending, previous, r-<rotation>)."
  permissions = [
    "secretmanager.secrets.get",
    "secretmanager.secrets.update",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.list",
  ]
}

resource "google_secret_manager_secret_iam_member" "rotate_executor_secret" {
  count = local.rotation_enabled ? 1 : 0

  project   = local.executor_secret.project
  secret_id = local.executor_secret.secret
  role      = google_project_iam_custom_role.executor_secret[0].name
  member    = local.rotate_member
}

# The config document and the Sourcegraph token, read as the scale function reads them.
resource "google_secret_manager_secret_iam_member" "rotate_config" {
  count = local.rotation_enabled ? 1 : 0

  project   = var.project_id
  secret_id = google_secret_manager_secret.config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.rotate_member
}

resource "google_secret_manager_secret_iam_member" "rotate_token" {
  for_each = local.rotation_enabled ? local.token_secrets : {}

  project   = each.value.project
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = local.rotate_member
}

# --- Cloud Monitoring: the rotation outcomes -------------------------------------------------------------------------

# The rotate functions write rotation_succeeded, rotation_failed and rotation_duration_ms
# (shared/gcp/monitoring-rotation-metrics.ts), which the "rotation failed" alert policy (monitoring.tf) reads. As for
# the scale and health functions: timeSeries.create alone, which also creates the descriptors on the first write;
# roles/monitoring.metricWriter would add writing metric descriptors, which the rotation never does.
resource "google_project_iam_custom_role" "rotate_metrics" {
  count      = local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project     = local.metrics_project
  role_id     = "${var.custom_role_prefix}RotateMetricsWriter"
  title       = "fleetplane rotation metric writer"
  description = "projects.timeSeries.create for the rotation outcomes."
  permissions = ["monitoring.timeSeries.create"]
}

resource "google_project_iam_member" "rotate_metrics" {
  count = local.rotation_enabled ? 1 : 0

  project = local.metrics_project
  role    = google_project_iam_custom_role.rotate_metrics[0].name
  member  = local.rotate_member
}

# --- The fleets' groups: rolled after a rotation ---------------------------------------------------------------------

# instanceGroupManagers.patch (a new version and updatePolicy) checks get and update on the group. As for the scale
# function, Compute Engine has no IAM policy on a group: a project-level grant narrowed by an IAM Condition.
resource "google_project_iam_custom_role" "group_roller" {
  for_each = local.roll_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}GroupRoller"
  title       = "fleetplane instance group roller"
  description = "Replaces the instances of fleetplane's groups after the executor secret is rotated."
  permissions = [
    "compute.instanceGroupManagers.get",
    "compute.instanceGroupManagers.update",
  ]
}

resource "google_project_iam_member" "group_roller" {
  for_each = local.roll_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.group_roller[each.key].name
  member  = local.rotate_member

  dynamic "condition" {
    for_each = var.restrict_group_access ? [each.value] : []
    content {
      title       = "fleetplane rolled groups"
      description = "The groups of the fleetplane config that are rolled after a rotation."
      expression  = join(" || ", [for name in condition.value : "resource.name == \"${name}\""])
    }
  }

  lifecycle {
    precondition {
      # IAM allows at most 12 logical operators in one condition expression.
      condition     = !var.restrict_group_access || length(each.value) <= 13
      error_message = "More than 13 rolled groups in ${each.key}: one IAM Condition cannot name them all; set roll: false on some fleets, split the deployment or set restrict_group_access = false."
    }
  }
}

# The patch's operation, whose name is not known in advance: unconditional and read-only.
resource "google_project_iam_custom_role" "roll_observer" {
  for_each = local.roll_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}RollObserver"
  title       = "fleetplane roll observer"
  description = "Reads the operations of the rolls fleetplane starts."
  permissions = [
    "compute.regionOperations.get",
    "compute.zoneOperations.get",
  ]
}

resource "google_project_iam_member" "roll_observer" {
  for_each = local.roll_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.roll_observer[each.key].name
  member  = local.rotate_member
}

# The patch reference lists only the two permissions above. Should Compute Engine still refuse a roll for want of
# iam.serviceAccounts.actAs on the service account the executors run as, executor_service_accounts names it: the grant
# is on that account, never on the project.
resource "google_service_account_iam_member" "rotate_act_as" {
  for_each = local.rotation_enabled ? toset(var.executor_service_accounts) : toset([])

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = local.rotate_member
}

# --- Source: rotate.js with its own package.json ---------------------------------------------------------------------

# The platform loads the file package.json names as main, and dist/gcp's names scale.js; rotate.js registers both rotate
# entry points. So this archive is rotate.js, the same pinned package.json with main rotate.js, and the same lockfile:
# one archive serves both functions, and `npm run build` stays one build.
data "archive_file" "rotate_source" {
  count = local.rotation_enabled ? 1 : 0

  type        = "zip"
  output_path = "${path.module}/.build/${var.rotate_function_name}.zip"

  source {
    filename = "rotate.js"
    content  = file("${local.bundle_dir}/rotate.js")
  }

  source {
    filename = "package.json"
    content  = jsonencode(merge(jsondecode(file("${local.bundle_dir}/package.json")), { main = "rotate.js" }))
  }

  source {
    filename = "package-lock.json"
    content  = file("${local.bundle_dir}/package-lock.json")
  }
}

resource "google_storage_bucket_object" "rotate_source" {
  count = local.rotation_enabled ? 1 : 0

  name   = "${var.rotate_function_name}/${data.archive_file.rotate_source[0].output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.rotate_source[0].output_path
}

# --- rotate: HTTP, IAM only ------------------------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "rotate" {
  count = local.rotation_enabled ? 1 : 0

  project     = var.project_id
  name        = var.rotate_function_name
  location    = var.region
  description = "Rotates the executor secret: POST with no body or {\"rotation\": \"<id>\"} runs or resumes a rotation and answers its report."
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = "rotate"
    service_account = coalesce(var.build_service_account, google_service_account.build.id)

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.rotate_source[0].name
      }
    }
  }

  service_config {
    available_memory = var.memory
    # A whole rotation: Secret Manager calls, Sourcegraph requests with retries and a bounded number of site-config
    # rewrites, and a patch per rolled group.
    timeout_seconds = local.rotate_timeout_seconds
    # A second request while one runs is refused rather than queued; the rotation code also stops a second rotation
    # that reaches Secret Manager through the event function.
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.rotate[0].email

    environment_variables = merge(
      { FLEETPLANE_TIMEOUT_SECONDS = tostring(local.rotate_timeout_seconds) },
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
    google_secret_manager_secret_iam_member.rotate_config,
    google_secret_manager_secret_iam_member.rotate_token,
  ]
}

resource "google_cloud_run_service_iam_member" "rotate_invoker" {
  count = local.rotation_enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.rotate[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.rotate_invoker[0].email}"
}

# People (or pipelines) allowed to start a rotation by hand; var.rotate_invokers refuses allUsers and
# allAuthenticatedUsers.
resource "google_cloud_run_service_iam_member" "rotate_manual_invoker" {
  for_each = local.rotation_enabled ? toset(var.rotate_invokers) : toset([])

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.rotate[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Off unless rotation_schedule is set.
resource "google_cloud_scheduler_job" "rotate" {
  count = local.rotation_enabled && var.rotation_schedule != null ? 1 : 0

  project     = var.project_id
  region      = var.region
  name        = var.rotate_function_name
  description = "Rotates the executor secret on a schedule (resuming a rotation left under way)."
  schedule    = var.rotation_schedule
  time_zone   = var.time_zone
  # Past the function's timeout plus a cold start, so the outcome recorded is the rotation's own.
  attempt_deadline = "${local.rotate_timeout_seconds + 60}s"

  # A run that failed after Sourcegraph took the new token leaves executors that boot meanwhile with the old one, so
  # it is retried within the hour rather than at the next scheduled run. Each attempt resumes the rotation under way
  # (a 409 while another run holds it is retried the same way).
  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
    max_backoff_duration = "600s"
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.rotate[0].service_config[0].uri
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.rotate_invoker[0].email
      audience              = google_cloudfunctions2_function.rotate[0].service_config[0].uri
    }
  }

  depends_on = [google_project_service.required, google_cloud_run_service_iam_member.rotate_invoker]
}

# --- rotateOnSecretEvent: Secret Manager's notifications through Pub/Sub ---------------------------------------------

# The executor secret lists this topic (rotation_setup_command); Secret Manager publishes every change of the secret
# to it, and the function acts on SECRET_ROTATE only.
resource "google_pubsub_topic" "rotation" {
  count      = local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project = var.project_id
  name    = local.rotation_topic_name
  labels  = local.labels
}

# Secret Manager publishes as its service agent in the secret's project, which exists only once something asked for
# it; generating it here lets the grant below name it on a project that never used notifications.
resource "google_project_service_identity" "secret_manager" {
  count    = local.rotation_enabled ? 1 : 0
  provider = google-beta

  project = local.executor_secret.project
  service = "secretmanager.googleapis.com"
}

resource "google_pubsub_topic_iam_member" "secret_manager_publisher" {
  count = local.rotation_enabled ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.rotation[0].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.secret_manager[0].email}"
}

# Pub/Sub pushes to the function with an OIDC token for the trigger's account. Its service agent mints that token;
# projects whose agent predates April 2021 lack the grant Google now makes, so it is made here, on that one account.
resource "google_project_service_identity" "pubsub" {
  count    = local.rotation_enabled ? 1 : 0
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"
}

resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = local.rotation_enabled ? 1 : 0

  service_account_id = google_service_account.rotate_invoker[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub[0].email}"
}

resource "google_cloudfunctions2_function" "rotate_on_secret_event" {
  count = local.rotation_enabled ? 1 : 0

  project     = var.project_id
  name        = local.rotate_event_function
  location    = var.region
  description = "Rotates the executor secret when Secret Manager sends SECRET_ROTATE for it."
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = "rotateOnSecretEvent"
    service_account = coalesce(var.build_service_account, google_service_account.build.id)

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.rotate_source[0].name
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    timeout_seconds                  = local.rotate_timeout_seconds
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    # Pub/Sub in the same project is internal traffic.
    ingress_settings               = var.ingress_settings
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.rotate[0].email

    environment_variables = merge(
      { FLEETPLANE_TIMEOUT_SECONDS = tostring(local.rotate_timeout_seconds) },
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

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.rotation[0].id
    service_account_email = google_service_account.rotate_invoker[0].email
    # Secret Manager sends SECRET_ROTATE once per rotation period. The function acknowledges what it ignores or
    # refuses and throws when the rotation fails; dropping that event would leave the rotation half done (Sourcegraph
    # may already hold the new token while executors still boot with `current`) until the next period. Redelivery,
    # with backoff, resumes the rotation under way, as every step first looks whether it was done.
    retry_policy = "RETRY_POLICY_RETRY"
  }

  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.rotate_config,
    google_secret_manager_secret_iam_member.rotate_token,
    google_service_account_iam_member.pubsub_token_creator,
  ]
}

# Eventarc pushes Pub/Sub messages as the trigger's account, so it needs the invoker role on this service (and, for a
# Pub/Sub source, no roles/eventarc.eventReceiver).
resource "google_cloud_run_service_iam_member" "rotate_event_invoker" {
  count = local.rotation_enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.rotate_on_secret_event[0].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.rotate_invoker[0].email}"
}
