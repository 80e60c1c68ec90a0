locals {
  config = yamldecode(var.config_document)

  # This function acts on the document's GCP fleets only; AWS fleets belong to the Lambda deployment.
  gcp_fleets = [for fleet in try(local.config.fleets, []) : fleet if try(fleet.target.cloud, "") == "gcp"]

  # IAM Conditions name a Compute Engine resource projects/<p>/zones/<z>/instanceGroupManagers/<n> (regions/<r> for a
  # regional group).
  gcp_groups = [
    for fleet in local.gcp_fleets : {
      project = fleet.target.project
      name = format(
        "projects/%s/%s/instanceGroupManagers/%s",
        fleet.target.project,
        # A zonal target has zone, a regional one region (the config parser allows exactly one).
        try("zones/${fleet.target.zone}", "regions/${fleet.target.region}"),
        fleet.target.instanceGroupManager,
      )
      mode = try(fleet.mode, "")
      # After a rotation every fleet's group is rolled so its instances boot with the new token, whatever the mode;
      # `roll: false` leaves a fleet's instances alone.
      roll = try(fleet.roll, null) != false
    }
  ]

  # shadow and direct fleets read their group (size, booting instances, an attached autoscaler); only direct resizes.
  read_groups = [
    for group in local.gcp_groups : merge(group, { resize = group.mode == "direct" })
    if contains(["shadow", "direct"], group.mode)
  ]
  read_groups_by_project = {
    for project in distinct([for group in local.read_groups : group.project]) :
    project => distinct([for group in local.read_groups : group.name if group.project == project])
  }
  resize_groups_by_project = {
    for project in distinct([for group in local.read_groups : group.project if group.resize]) :
    project => distinct([for group in local.read_groups : group.name if group.project == project && group.resize])
  }

  # Where the queue-size series is written (and, for scale-in, read back).
  metrics_project = try(local.config.metrics.cloudMonitoring.projectId, null)

  # The token: mounted from a secret as SRC_ACCESS_TOKEN, and/or named in the config and read at run time.
  token_env_secret = var.sourcegraph_token_secret == null ? null : (
    startswith(var.sourcegraph_token_secret, "projects/")
    ? { project = split("/", var.sourcegraph_token_secret)[1], secret = split("/", var.sourcegraph_token_secret)[3] }
    : { project = var.project_id, secret = var.sourcegraph_token_secret }
  )
  config_token_secret_name = try(local.config.sourcegraph.tokenSecret.gcpSecretManager, null)
  config_token_secret = local.config_token_secret_name == null ? null : {
    project = split("/", local.config_token_secret_name)[1]
    secret  = split("/", local.config_token_secret_name)[3]
  }
  # Keyed by project/secret so a secret named both ways gets one binding (destroying a duplicate would remove both).
  token_secrets = {
    for secret in compact([
      local.token_env_secret == null ? "" : "${local.token_env_secret.project}/${local.token_env_secret.secret}",
      local.config_token_secret == null ? "" : "${local.config_token_secret.project}/${local.config_token_secret.secret}",
    ]) : secret => { project = split("/", secret)[0], secret = split("/", secret)[1] }
  }

  bundle_dir         = coalesce(var.bundle_dir, "${path.module}/../../dist/gcp")
  source_bucket_name = coalesce(var.source_bucket_name, "${var.project_id}-fleetplane-source")
  runtime_member     = "serviceAccount:${google_service_account.runtime.email}"

  # The function's timeout; FLEETPLANE_TIMEOUT_SECONDS tells the code the same number so it stops polling in time.
  timeout_seconds = 60

  labels = merge({ app = "fleetplane" }, var.labels)
}

# --- APIs ------------------------------------------------------------------------------------------------------------

resource "google_project_service" "required" {
  for_each = var.enable_apis ? toset(concat([
    "artifactregistry.googleapis.com", # the built function image
    "cloudbuild.googleapis.com",       # builds the function from the uploaded archive
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com", # a 2nd gen function is a Cloud Run service
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    ],
    # The rotate functions' Pub/Sub topic and its Eventarc trigger.
    local.rotation_enabled ? ["eventarc.googleapis.com", "pubsub.googleapis.com"] : [],
  )) : toset([])

  project = var.project_id
  service = each.value
  # Other workloads in the project may use these APIs; removing fleetplane must not switch them off.
  disable_on_destroy = false
}

# --- Service accounts ------------------------------------------------------------------------------------------------

# The function's identity. It gets no predefined broad role: only the custom roles and secret grants below.
resource "google_service_account" "runtime" {
  # On a fresh project the IAM API is enabled in the same apply.
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.runtime_service_account_id
  display_name = "fleetplane scale function"
  description  = "Runs ${var.function_name}: writes and reads the executor queue-size metric, reads and resizes the configured instance groups."
}

# Cloud Build builds the function as this account. Projects created since 2024 default to the Compute Engine account,
# which organisations that block automatic role grants leave without any role, so the first build would fail.
resource "google_service_account" "build" {
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = "${var.function_name}-build"
  display_name = "fleetplane function build"
  description  = "Builds ${var.function_name} from its uploaded source archive."
}

resource "google_project_iam_member" "build" {
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# Cloud Scheduler signs its OIDC token as this account. It holds one grant: roles/run.invoker on this function's
# Cloud Run service, so a leaked token cannot invoke anything else.
resource "google_service_account" "invoker" {
  depends_on = [google_project_service.required]

  project      = var.project_id
  account_id   = var.invoker_service_account_id
  display_name = "fleetplane scheduler invoker"
  description  = "Cloud Scheduler's identity for invoking ${var.function_name}."
}

# --- Cloud Monitoring: write the worker's series, read it back for scale-in ------------------------------------------

# roles/monitoring.metricWriter would also allow writing metric descriptors, and roles/monitoring.viewer would allow
# reading every metric and dashboard; the function needs the two time-series calls only. Writing a
# custom.googleapis.com series auto-creates its descriptor with timeSeries.create alone (Sourcegraph's own
# metric-writer role holds only that permission).
resource "google_project_iam_custom_role" "metrics" {
  depends_on = [google_project_service.required]

  project     = local.metrics_project
  role_id     = "${var.custom_role_prefix}MetricsWriter"
  title       = "fleetplane queue-size metric writer"
  description = "projects.timeSeries.create for the queue-size series and the removal ledger; projects.timeSeries.list to read both back before scaling in."
  permissions = concat(
    ["monitoring.timeSeries.create"],
    # Only shadow and direct fleets decide a size, and only deciding reads the series back.
    length(local.read_groups) > 0 ? ["monitoring.timeSeries.list"] : [],
  )

  lifecycle {
    precondition {
      condition     = local.metrics_project != null
      error_message = "The config document has no metrics.cloudMonitoring.projectId: a GCP deployment writes the queue-size metric to Cloud Monitoring."
    }
  }
}

resource "google_project_iam_member" "metrics" {
  project = local.metrics_project
  role    = google_project_iam_custom_role.metrics.name
  member  = local.runtime_member
}

# --- Instance groups: only the configured ones, only what each mode needs --------------------------------------------

# Compute Engine offers no IAM policy on a managed instance group, so these are project-level grants in each group's
# project, narrowed by an IAM Condition on the group names (restrict_group_access).

# instanceGroupManagers.get covers get and listManagedInstances (booting instances count as Pending) for zonal and
# regional groups.
resource "google_project_iam_custom_role" "group_reader" {
  for_each = local.read_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}GroupReader"
  title       = "fleetplane instance group reader"
  description = "Reads the size and managed instances of the groups fleetplane decides for."
  permissions = ["compute.instanceGroupManagers.get"]
}

resource "google_project_iam_member" "group_reader" {
  for_each = local.read_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.group_reader[each.key].name
  member  = local.runtime_member

  dynamic "condition" {
    for_each = var.restrict_group_access ? [each.value] : []
    content {
      title       = "fleetplane groups"
      description = "The shadow and direct groups of the fleetplane config."
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

# instanceGroupManagers.update is the permission resize checks (zonal and regional). Given for direct fleets only:
# a shadow fleet's group can never be resized by fleetplane.
resource "google_project_iam_custom_role" "group_resizer" {
  for_each = local.resize_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}GroupResizer"
  title       = "fleetplane instance group resizer"
  description = "Resizes the groups of fleetplane's direct fleets."
  permissions = ["compute.instanceGroupManagers.update"]
}

resource "google_project_iam_member" "group_resizer" {
  for_each = local.resize_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.group_resizer[each.key].name
  member  = local.runtime_member

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

# Read-only metadata around the groups, whose resource names are not known in advance (operation ids, autoscaler
# names), so unconditional: the resize operation's status (operations.wait checks operations.get) and the
# autoscaler attached to a group (found with a filtered autoscalers.list; a direct fleet whose group still has one in
# mode ON is reported: two controllers fight). Zonal and regional autoscalers share the compute.autoscalers.* family.
resource "google_project_iam_custom_role" "group_observer" {
  for_each = local.read_groups_by_project

  project     = each.key
  role_id     = "${var.custom_role_prefix}GroupObserver"
  title       = "fleetplane instance group observer"
  description = "Reads resize operations, autoscalers and instance creation times next to fleetplane's groups."
  permissions = [
    "compute.autoscalers.list",
    "compute.instances.list",
    "compute.regionOperations.get",
    "compute.zoneOperations.get",
  ]
}

resource "google_project_iam_member" "group_observer" {
  for_each = local.read_groups_by_project

  project = each.key
  role    = google_project_iam_custom_role.group_observer[each.key].name
  member  = local.runtime_member
}

# --- Secrets ---------------------------------------------------------------------------------------------------------

# The config names endpoints, projects and groups: not a credential, but not for the function's plain environment
# (visible to anyone who can view the service) either.
resource "google_secret_manager_secret" "config" {
  project   = var.project_id
  secret_id = var.config_secret_id
  labels    = local.labels

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.required]
}

resource "google_secret_manager_secret_version" "config" {
  secret      = google_secret_manager_secret.config.id
  secret_data = var.config_document
}

resource "google_secret_manager_secret_iam_member" "config" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.runtime_member
}

resource "google_secret_manager_secret_iam_member" "token" {
  for_each = local.token_secrets

  project   = each.value.project
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = local.runtime_member
}

# --- Source: the prebuilt bundle and its package.json ----------------------------------------------------------------

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = local.source_bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # It holds only build inputs that `npm run build` recreates.
  force_destroy = true
  labels        = local.labels

  depends_on = [google_project_service.required]
}

# `npm run build` writes dist/gcp: the bundle (our code and small libraries) and a package.json naming the Google
# clients and the functions-framework at the exact versions the tests ran against. The cloud build installs those,
# and the framework it installs is the copy that loads the bundle and finds the functions it registered.
data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/.build/${var.function_name}.zip"
  source_dir  = local.bundle_dir
  # rotate.js and health.js have archives of their own (rotate.tf, health.tf), so a change to them does not redeploy
  # this function.
  excludes = ["health.js", "health.js.map", "health.meta.json", "rotate.js", "rotate.js.map", "rotate.meta.json", "scale.js.map", "scale.meta.json"]
}

resource "google_storage_bucket_object" "source" {
  # Named by content: a changed bundle is a new object, which makes Terraform redeploy the function.
  name   = "${var.function_name}/${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

# --- The function ----------------------------------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "scale" {
  project     = var.project_id
  name        = var.function_name
  location    = var.region
  description = "Publishes the executor queue-size metric and sizes fleetplane's GCP instance groups, polling for one minute per invocation."
  labels      = local.labels

  build_config {
    runtime         = "nodejs22"
    entry_point     = "scale"
    service_account = coalesce(var.build_service_account, google_service_account.build.id)

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory = var.memory
    # An invocation polls for invocationSeconds (default 50) and must end before the next tick.
    timeout_seconds = local.timeout_seconds
    # Two cycles never overlap: each decides from the group's current size, and two at once would double-count.
    # A tick arriving while one runs is refused rather than queued, and Scheduler does not retry it.
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime.email

    environment_variables = merge(
      { FLEETPLANE_TIMEOUT_SECONDS = tostring(local.timeout_seconds) },
      var.node_options == "" ? {} : { NODE_OPTIONS = var.node_options },
    )

    # A numbered version (not "latest"): a changed document is a new version, which rolls out a new revision.
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
    precondition {
      condition     = local.token_env_secret != null || local.config_token_secret != null
      error_message = "No Sourcegraph token: set sourcegraph_token_secret, or sourcegraph.tokenSecret.gcpSecretManager in the config document."
    }

    # The rotation variables act only on the rotate functions, which a config without the secret does not deploy.
    precondition {
      condition     = local.rotation_enabled || (var.rotation_schedule == null && length(var.rotate_invokers) == 0 && length(var.executor_service_accounts) == 0)
      error_message = "rotation_schedule, rotate_invokers or executor_service_accounts is set, but the config document names no executorSecret.gcpSecretManager to rotate: name the secret, or drop them."
    }
  }

  # A revision that cannot read its secrets fails to start; grant access before the first deploy.
  depends_on = [
    google_project_service.required,
    google_secret_manager_secret_iam_member.config,
    google_secret_manager_secret_iam_member.token,
  ]
}

# A 2nd gen function is invoked through its Cloud Run service, so the invoker grant goes there (not on the function).
resource "google_cloud_run_service_iam_member" "invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.scale.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.invoker.email}"
}

# --- The tick --------------------------------------------------------------------------------------------------------

resource "google_cloud_scheduler_job" "scale" {
  project     = var.project_id
  region      = var.region
  name        = var.function_name
  description = "Starts one fleetplane scale invocation (it polls until invocationSeconds)."
  schedule    = var.schedule
  time_zone   = var.time_zone
  # Longer than the function's 60 s timeout plus a cold start, so Scheduler records the invocation's real outcome
  # instead of a deadline failure for a run that is still working.
  attempt_deadline = "120s"

  # A failed run is not retried into the next one; the next tick starts a fresh cycle a minute later anyway.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.scale.service_config[0].uri
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = google_cloudfunctions2_function.scale.service_config[0].uri
    }
  }

  depends_on = [google_project_service.required, google_cloud_run_service_iam_member.invoker]
}
