# terraform apply -var-file=example.tfvars
# Copy this file, change the project, groups and Sourcegraph URL, and keep the token in Secret Manager:
#   printf %s "$SRC_ACCESS_TOKEN" | gcloud secrets create fleetplane-sourcegraph-token --data-file=-

project_id = "my-executors-project"
region     = "us-central1"

# Mounted as SRC_ACCESS_TOKEN. Alternatively name it in the document (sourcegraph.tokenSecret.gcpSecretManager:
# projects/my-executors-project/secrets/fleetplane-sourcegraph-token/versions/latest) and leave this unset.
sourcegraph_token_secret = "fleetplane-sourcegraph-token"

# With executorSecret in the document: rotate on this cron schedule too (off by default), and let these principals
# POST to the rotate function by hand.
# rotation_schedule = "0 3 1 * *"
# rotate_invokers   = ["group:sourcegraph-admins@example.com"]

# The health check (health.tf) judges every GCP fleet's VMs every 5 minutes and recreates broken VMs of direct fleets.
# With webhook.auth iam (the default) these principals may call the webhook (GET /health, POST /rotate) with an
# identity token; with webhook.auth hmac in the document the webhook is public and checks signatures instead.
# health_schedule  = "*/5 * * * *"
# webhook_invokers = ["group:sourcegraph-admins@example.com"]

# The dashboard and the alert policies (monitoring.tf) go to the document's metrics project. Route the alerts to
# notification channels created there (Monitoring > Alerting > Edit notification channels), or turn either off.
# notification_channels = ["projects/my-executors-project/notificationChannels/1234567890"]
# enable_alert_policies = false
# enable_dashboard      = false

# The same document the function reads (schema: shared/config/document.ts). The service account's permissions are
# derived from it: the metric project, and which groups it may read (shadow, direct) and resize (direct).
config_document = <<-EOT
  # Must equal metrics_environment_label in Sourcegraph's executor Terraform.
  environment: prod
  sourcegraph:
    endpoint: https://sourcegraph.example.com
  metrics:
    cloudMonitoring:
      projectId: my-executors-project
  # Uncomment to also deploy the rotate functions (rotate.tf): the secret the executors read their token from, as
  # projects/<project>/secrets/<secret>. After apply, run the rotation_setup_command output once so Secret Manager
  # sends SECRET_ROTATE on a schedule, or set rotation_schedule below.
  # executorSecret:
  #   gcpSecretManager: projects/my-executors-project/secrets/executor-frontend-password
  # Uncomment to sign webhook requests with a key (64 hex characters: openssl rand -hex 32) instead of IAM: callers
  # without a Google identity can then call it. While changing the key, the secret holds the new and the old one,
  # separated by white space.
  # webhook:
  #   auth: hmac
  #   secret:
  #     gcpSecretManager: projects/my-executors-project/secrets/fleetplane-webhook-key/versions/latest
  # How VMs are judged (these are the defaults): no verdict for graceSeconds after launch, stale after staleSeconds
  # without a heartbeat, at most maxReplacementsPerRun (and maxReplacementFraction of a fleet) recreated per check.
  # health:
  #   graceSeconds: 600
  #   staleSeconds: 300
  #   maxReplacementsPerRun: 2
  #   maxReplacementFraction: 0.25
  fleets:
    # Resized directly. Remove the module's google_compute_autoscaler (or set its mode to OFF) first: two
    # controllers fight.
    - name: codeintel
      queues: [codeintel]
      mode: direct
      target:
        cloud: gcp
        project: my-executors-project
        zone: us-central1-a
        instanceGroupManager: sourcegraph-executors-codeintel
      jobsPerInstance: 2 # the executor's maximum_num_jobs
      minInstances: 1
      maxInstances: 10
      # Never deletes a VM that runs a job: the group shrinks as executors exit (max_active_time, num_total_jobs)
      # and fleetplane deletes their stopped VMs. Set the MIG's instance_lifecycle_policy
      # default_action_on_failure = "DO_NOTHING", or it recreates them first. With busySignal.url set,
      # busy-signal (idle VMs deleted as soon as the window allows) is the default instead.
      scaleIn:
        mode: attrition
    # A regional group, decided and logged as would-resize, never touched.
    - name: batches
      queues: [batches]
      mode: shadow
      target:
        cloud: gcp
        project: my-executors-project
        region: us-central1
        instanceGroupManager: sourcegraph-executors-batches
      jobsPerInstance: 2
      maxInstances: 5
EOT
