variable "project_id" {
  description = "Project the function, scheduler job, service accounts, bucket and config secret live in."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id such as my-project."
  }
}

variable "region" {
  description = "Region of the function, the scheduler job, the source bucket and the config secret's replica."
  type        = string
  default     = "us-central1"
}

variable "function_name" {
  description = "Name of the Cloud Function (and of its Cloud Run service and scheduler job)."
  type        = string
  default     = "fleetplane-scale"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.function_name))
    error_message = "function_name must be 1-63 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "config_document" {
  description = <<-EOT
    The fleetplane config document (YAML or JSON; schema in shared/config/document.ts). Stored as a Secret Manager
    secret and given to the function as FLEETPLANE_CONFIG. The GCP fleets, the Cloud Monitoring project and the
    token secret are read from it to derive the service account's permissions, so it is the one source of truth.
    It must not hold the Sourcegraph token itself: use sourcegraph.tokenSecret.gcpSecretManager or
    sourcegraph_token_secret.
  EOT
  type        = string
  nullable    = false

  validation {
    condition     = can(yamldecode(var.config_document).fleets)
    error_message = "config_document must be a YAML or JSON document with a fleets list."
  }

  validation {
    # The document also lands in the Terraform state and plan; a token belongs in Secret Manager only.
    condition     = !can(yamldecode(var.config_document).sourcegraph.token)
    error_message = "config_document must not contain sourcegraph.token: use sourcegraph.tokenSecret.gcpSecretManager or the sourcegraph_token_secret variable."
  }

  validation {
    condition     = !can(yamldecode(var.config_document).sourcegraph.tokenSecret.awsSecretsManager)
    error_message = "The GCP function cannot read AWS Secrets Manager: use sourcegraph.tokenSecret.gcpSecretManager or sourcegraph_token_secret."
  }

  validation {
    condition     = !can(yamldecode(var.config_document).webhook.secret.awsSecretsManager)
    error_message = "The GCP webhook cannot read its HMAC key from AWS Secrets Manager: use webhook.secret.gcpSecretManager."
  }
}

variable "config_secret_id" {
  description = "Secret Manager secret created to hold config_document."
  type        = string
  default     = "fleetplane-config"
}

variable "sourcegraph_token_secret" {
  description = <<-EOT
    Optional existing Secret Manager secret holding the Sourcegraph site-admin token, mounted as SRC_ACCESS_TOKEN
    (the simple path). A secret id in project_id, or projects/<project>/secrets/<secret>. Leave null when the config
    names the secret itself (sourcegraph.tokenSecret.gcpSecretManager), which the function reads at run time.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.sourcegraph_token_secret == null || can(regex("^(projects/[^/]+/secrets/)?[A-Za-z0-9_-]{1,255}$", var.sourcegraph_token_secret))
    error_message = "sourcegraph_token_secret must be a secret id or projects/<project>/secrets/<secret>."
  }
}

variable "sourcegraph_token_secret_version" {
  description = "Version of sourcegraph_token_secret to mount. \"latest\" is resolved when an instance starts, so a rotated token reaches the function with its next instance."
  type        = string
  default     = "latest"
}

variable "restrict_group_access" {
  description = <<-EOT
    Limit the instance-group permissions to the config's groups with an IAM Condition on resource.name. Compute
    Engine has no IAM policy on a managed instance group, so the grant is a project-level binding; the condition
    narrows it to the named groups. Set false only if your organisation cannot use conditional bindings: the
    service account can then read (shadow, direct) and resize (direct) every group in those projects.
  EOT
  type        = bool
  default     = true
}

variable "schedule" {
  description = "Cron schedule of the scale invocations. Each one polls until invocationSeconds (default 50), so one a minute keeps the control loop continuous."
  type        = string
  default     = "* * * * *"
}

variable "time_zone" {
  description = "Time zone the schedule is read in."
  type        = string
  default     = "Etc/UTC"
}

variable "ingress_settings" {
  description = "Who may reach the function's URL. Cloud Scheduler in the same project counts as internal; ALLOW_ALL still requires the invoker's OIDC token."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_ALL"], var.ingress_settings)
    error_message = "ingress_settings must be ALLOW_INTERNAL_ONLY or ALLOW_ALL."
  }
}

variable "memory" {
  description = "Memory of the function instance."
  type        = string
  default     = "256Mi"
}

variable "node_options" {
  description = "Optional NODE_OPTIONS for the function, e.g. --max-old-space-size=200. Empty: not set."
  type        = string
  default     = ""
}

variable "bundle_dir" {
  description = "Directory holding scale.js from `npm run build`. Null: dist/gcp at the repository root."
  type        = string
  default     = null
}

variable "source_bucket_name" {
  description = "Bucket the source archive is uploaded to. Null: <project_id>-fleetplane-source."
  type        = string
  default     = null
}

variable "runtime_service_account_id" {
  description = "Account id of the service account the function runs as."
  type        = string
  default     = "fleetplane-scale"
}

variable "invoker_service_account_id" {
  description = "Account id of the service account Cloud Scheduler signs its OIDC token as."
  type        = string
  default     = "fleetplane-invoker"
}

variable "rotate_function_name" {
  description = <<-EOT
    Name of the HTTP rotate function (and of its scheduler job); the event-triggered one is
    <name>-on-secret-event and the Pub/Sub topic <name>-secret-events. Deployed only when the config document names
    executorSecret.gcpSecretManager.
  EOT
  type        = string
  default     = "fleetplane-rotate"

  validation {
    # 45 leaves room for the -on-secret-event suffix within the 63 characters of a function name.
    condition     = can(regex("^[a-z]([-a-z0-9]{0,43}[a-z0-9])?$", var.rotate_function_name))
    error_message = "rotate_function_name must be 1-45 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "rotate_service_account_id" {
  description = "Account id of the service account the rotate functions run as."
  type        = string
  default     = "fleetplane-rotate"
}

variable "rotate_invoker_service_account_id" {
  description = "Account id of the service account Cloud Scheduler and the secret-event trigger invoke the rotate functions as."
  type        = string
  default     = "fleetplane-rotate-invoker"
}

variable "rotation_schedule" {
  description = "Optional cron schedule (in time_zone) on which Cloud Scheduler starts a rotation, e.g. \"0 3 1 * *\". Null: rotated only on demand or by Secret Manager's SECRET_ROTATE."
  type        = string
  default     = null
}

variable "rotate_invokers" {
  description = <<-EOT
    Principals allowed to start a rotation by POSTing to the rotate function (roles/run.invoker on that function
    only), e.g. group:sourcegraph-admins@example.com. The function's URL still answers only within ingress_settings.
  EOT
  type        = list(string)
  default     = []

  validation {
    # A rotation replaces the credential every executor uses: never anonymous, never any Google account.
    condition     = alltrue([for member in var.rotate_invokers : can(regex("^(user|group|serviceAccount):[^\\s]+@[^\\s]+$", member))])
    error_message = "rotate_invokers must name users, groups or service accounts (user:..., group:..., serviceAccount:...); allUsers and allAuthenticatedUsers are refused."
  }
}

variable "executor_service_accounts" {
  description = <<-EOT
    Service accounts (projects/<p>/serviceAccounts/<email>) the executor instances run as. Leave empty unless
    rolling a group is refused for want of iam.serviceAccounts.actAs on one of them; each listed account then grants
    the rotate functions roles/iam.serviceAccountUser on itself only.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.executor_service_accounts : can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", name))])
    error_message = "executor_service_accounts must be projects/<project>/serviceAccounts/<email> names."
  }
}

variable "health_function_name" {
  description = "Name of the scheduled health check function (and of its scheduler job); the webhook is <name>-webhook."
  type        = string
  default     = "fleetplane-health"

  validation {
    # 55 leaves room for the -webhook suffix within the 63 characters of a function name.
    condition     = can(regex("^[a-z]([-a-z0-9]{0,53}[a-z0-9])?$", var.health_function_name))
    error_message = "health_function_name must be 1-55 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "health_service_account_id" {
  description = "Account id of the service account the health functions (check and webhook) run as."
  type        = string
  default     = "fleetplane-health"
}

variable "health_invoker_service_account_id" {
  description = "Account id of the service account Cloud Scheduler invokes the health check as."
  type        = string
  default     = "fleetplane-health-invoker"
}

variable "health_schedule" {
  description = "Cron schedule (in time_zone) of the health checks. Each judges every GCP fleet's VMs and recreates broken VMs of direct fleets, within the config's health caps."
  type        = string
  default     = "*/5 * * * *"
}

variable "webhook_invokers" {
  description = <<-EOT
    With webhook.auth iam (the default): principals allowed to call the webhook (roles/run.invoker on it only), e.g.
    group:sourcegraph-admins@example.com; they send an identity token. Must stay empty with webhook.auth hmac, where
    the webhook is public (allUsers) and checks signatures itself.
  EOT
  type        = list(string)
  default     = []

  validation {
    # GET /health reads the fleets and POST /rotate replaces the executors' credential: never anonymous by IAM.
    condition     = alltrue([for member in var.webhook_invokers : can(regex("^(user|group|serviceAccount):[^\\s]+@[^\\s]+$", member))])
    error_message = "webhook_invokers must name users, groups or service accounts (user:..., group:..., serviceAccount:...); allUsers and allAuthenticatedUsers are refused (use webhook.auth: hmac for callers without a Google identity)."
  }
}

variable "webhook_ingress_settings" {
  description = "Who may reach the webhook's URL. ALLOW_ALL (the default) still requires an identity token with webhook.auth iam, or a signature with hmac."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.webhook_ingress_settings)
    error_message = "webhook_ingress_settings must be ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

variable "build_service_account" {
  description = "Optional service account (projects/<p>/serviceAccounts/<email>) Cloud Build uses to build the function. Null: a dedicated one created here, with roles/cloudbuild.builds.builder."
  type        = string
  default     = null
}

variable "custom_role_prefix" {
  description = "Prefix of the custom role ids; role ids are unique per project, so two deployments in one project need different prefixes."
  type        = string
  default     = "fleetplane"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.]{3,40}$", var.custom_role_prefix))
    error_message = "custom_role_prefix must be 3-40 letters, digits, underscores or dots."
  }
}

variable "enable_apis" {
  description = "Enable the APIs this deployment uses in project_id (never disabled on destroy)."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels added to the function, bucket and secret."
  type        = map(string)
  default     = {}
}

# --- Monitoring (monitoring.tf): the dashboard and the alert policies ------------------------------------------------

variable "enable_dashboard" {
  description = "Create the fleetplane dashboard (cycles, latency, errors, queue depth, fleet sizes, decisions, rotations and their duration, health classes, replacements, held checks, unexplained executors) in the config document's metrics project."
  type        = bool
  default     = true
}

variable "enable_alert_policies" {
  description = <<-EOT
    Create the alert policies in the config document's metrics project: no successful cycle for 5 minutes; a queue
    deep with no capacity change for 15 minutes, one per GCP shadow or direct fleet whose series GCP takes a share of
    (per the config's allocations); and, where rotation is deployed, a failed rotation. Set false where fleetplane is
    alerted on some other way.
  EOT
  type        = bool
  default     = true
}

variable "notification_channels" {
  description = <<-EOT
    Notification channels the alert policies notify, as projects/<project>/notificationChannels/<id> (create them in
    the Cloud console under Monitoring > Alerting, or with google_monitoring_notification_channel). Empty: incidents
    are opened and shown in the console but nobody is notified.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", name))])
    error_message = "notification_channels must be channel names: projects/<project>/notificationChannels/<id>."
  }
}
