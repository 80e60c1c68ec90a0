# fleetplane watching itself in Cloud Monitoring: a dashboard of the custom metrics the functions write
# (shared/gcp/monitoring-*-metrics.ts) and the three alert policies of issue 9. Both live in the config's metrics
# project (metrics.cloudMonitoring.projectId), where the series are written, and select the config's environment only,
# so two deployments sharing a project each watch their own.
#
# The policies are PromQL conditions (google provider 4.76+): PromQL says "over the last N minutes" with an explicit
# range, which Cloud Monitoring evaluates like Prometheus 2.44 apart from staleness (its backend has none), so the same
# expressions run unchanged under `promtool test rules` (test/integration/gcp-alert-rules.test.ts). A custom metric
# custom.googleapis.com/fleetplane/<name> is custom_googleapis_com:fleetplane_<name> in PromQL (the first "/" becomes
# ":", every other "/" and "." an "_"), its metric labels keep their names, and monitored_resource="global" selects
# the resource the functions write on. Every condition sets disable_metric_validation (google provider 6.13+):
# the functions create their metrics with the first write, after the apply that creates the policies, and Cloud
# Monitoring would otherwise refuse a PromQL condition on a metric that does not exist yet.

locals {
  # The `environment` label of every series (shared/config/document.ts defaults it to dev).
  monitoring_environment = try(local.config.environment, "dev")
  # The environment goes verbatim into double-quoted strings: the dashboard's JSON and Monitoring filters, the
  # policies' PromQL label matchers. Refusing the characters that would need escaping there (a quote, a backslash,
  # control characters) keeps all of them exact; no real environment name has one.
  monitoring_environment_ok = can(regex("^[^\"\\\\\\x00-\\x1f]+$", local.monitoring_environment))

  # The share of each queue's depth GCP's metric carries, as the function's config parser derives it
  # (normalizeAllocations in shared/domain/queue-metric.ts): none when the config publishes nothing to Cloud Monitoring;
  # all of it for a queue with no `allocations` entry, or an empty one; otherwise what the entry gives gcp (0 when it
  # names only aws). Whether the config also publishes to CloudWatch changes only the aws share.
  gcp_queue_shares = {
    for queue in ["batches", "codeintel"] : queue => (
      try(local.config.metrics.cloudMonitoring, null) == null ? 0 : (
        length(try(local.config.allocations[queue], {})) == 0 ? 1 : try(local.config.allocations[queue].gcp, 0)
      )
    )
  }

  # One "queue deep, no capacity change" candidate per GCP fleet whose group size fleetplane decides (shadow, direct).
  # A metrics-only fleet's group is sized by its autoscaler and the cycle publishes no fleet_current_size for it
  # (shared/app/cycle-summary.ts), so a policy for it could never fire.
  capacity_alert_candidates = {
    for fleet in local.gcp_fleets : fleet.name => {
      # The series its depth is published under: the sorted, de-duplicated join of its queues, as seriesNameOf
      # (shared/domain/queues.ts) derives it.
      series            = join("_", sort(distinct(fleet.queues)))
      jobs_per_instance = fleet.jobsPerInstance
      # The share the fleet decides on (seriesAllocation): a multi-queue series takes the codeintel share, as the
      # worker does. pow(x, 1) hands x to Go's math.Pow as a float64 and returns that float64 (go-cty's pow converts
      # its arguments), so the share is the same double the function parses, not Terraform's 512-bit decimal.
      share = pow(local.gcp_queue_shares[length(distinct(fleet.queues)) > 1 ? "codeintel" : fleet.queues[0]], 1)
    } if contains(["shadow", "direct"], try(fleet.mode, ""))
  }

  # The policies: a fleet whose series GCP takes no share of never needs GCP capacity, so it gets none. queue_depth is
  # the series' depth BEFORE allocation (shared/ports/cycle-metrics.ts), and the fleet sees trunc(depth * share) jobs,
  # in float64 as the worker and the function compute it (allocatedSize). The threshold is the smallest depth whose
  # share reaches jobsPerInstance, searched as deepQueueThreshold (deploy/observability.ts) searches it for AWS: from
  # one below the float64 quotient, the first depth that reaches it. Each product is rounded to a float64 by pow(_, 1)
  # before floor, so with the doubles nearest the shares 100 * 0.29 is 28.999999999999996 (28 jobs, not 29) and
  # 10 * 0.3 is 3 (not 2.99999999999999988...), as in JavaScript. The answer lies within three steps of the start for
  # any threshold below 2^52 jobs, far past any real queue; the ceil() fallback only keeps a share so small that the
  # threshold passes that (a trillionth, say) from failing the plan with an empty min().
  capacity_alert_fleets = {
    for name, fleet in local.capacity_alert_candidates : name => {
      series            = fleet.series
      jobs_per_instance = fleet.jobs_per_instance
      threshold = try(min([
        for depth in [
          for step in range(4) : max(0, floor(pow(fleet.jobs_per_instance / fleet.share, 1)) - 1) + step
        ] : depth if floor(pow(depth * fleet.share, 1)) >= fleet.jobs_per_instance
      ]...), ceil(fleet.jobs_per_instance / fleet.share))
    } if fleet.share > 0
  }

  # Every range below spans at least one evaluation interval: the shortest is the capacity policy's `[1m] offset 15m`
  # guard, the others are 5 or 15 minutes. So evaluations a minute apart leave no point the functions write between
  # two windows.
  alert_evaluation_interval = "60s"
  environment_error         = "The config document's environment must not contain a double quote, a backslash or a control character: it is written into Monitoring filters and PromQL matchers verbatim."
}

# --- The dashboard ---------------------------------------------------------------------------------------------------

resource "google_monitoring_dashboard" "fleetplane" {
  count = var.enable_dashboard ? 1 : 0
  # Monitoring must be enabled before a dashboard can be created in a fresh project.
  depends_on = [google_project_service.required]

  project = local.metrics_project
  # The JSON is a template so it stays readable and checkable as JSON; only the environment varies.
  dashboard_json = templatefile("${path.module}/dashboard.json.tftpl", {
    environment = local.monitoring_environment
  })

  lifecycle {
    precondition {
      condition     = local.monitoring_environment_ok
      error_message = local.environment_error
    }
  }
}

# --- Alert: no successful cycle for 5 minutes ------------------------------------------------------------------------

# Every cycle writes cycle_succeeded 1 or 0 (several cycles a minute), so "no 1 within 5 minutes" covers both a
# function that runs and fails and one that does not run at all, which writes nothing. Missing data must count:
#   - the `< 1` branch fires when cycles run but none succeeds;
#   - the absent_over_time branch fires when no point at all arrived in the window (function not deployed, not
#     invoked, crashing before it publishes), including a metric that was never written.
# Both are one PromQL condition: a PromQL policy takes a single condition, and a metric-absence condition judges the
# time series that exist, so it cannot see a deployment whose function never wrote one. A fresh deployment opens one
# incident that closes itself with the first successful cycle (a minute or two after the apply): the price of
# counting "nothing written" as breaching.
resource "google_monitoring_alert_policy" "no_successful_cycle" {
  count = var.enable_alert_policies ? 1 : 0
  # Created after the tick exists, so the first cycle follows within a minute.
  depends_on = [google_project_service.required, google_cloud_scheduler_job.scale]

  project               = local.metrics_project
  display_name          = "fleetplane ${local.monitoring_environment}: no successful cycle for 5 minutes"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "No cycle_succeeded = 1 for 5 minutes, or no cycle published at all"

    condition_prometheus_query_language {
      query                     = <<-EOT
        max_over_time(custom_googleapis_com:fleetplane_cycle_succeeded{monitored_resource="global",environment="${local.monitoring_environment}"}[5m]) < 1
        or
        absent_over_time(custom_googleapis_com:fleetplane_cycle_succeeded{monitored_resource="global",environment="${local.monitoring_environment}"}[5m])
      EOT
      duration                  = "0s"
      evaluation_interval       = local.alert_evaluation_interval
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      No fleetplane scale cycle in environment `${local.monitoring_environment}` succeeded in the last 5 minutes, or
      none published anything: the GCP fleets are not being scaled. Check the `${var.function_name}` function's logs
      and its Cloud Scheduler job, then the dashboard's errors by source (Sourcegraph, cloud, metrics).
    EOT
  }

  lifecycle {
    precondition {
      condition     = local.monitoring_environment_ok
      error_message = local.environment_error
    }
  }
}

# --- Alert: queue deep and no capacity change for 15 minutes, per fleet ----------------------------------------------

# For 15 minutes the fleet's series held at least one instance's worth of jobs for GCP (the threshold: the depth whose
# GCP share reaches jobsPerInstance, capacity_alert_fleets above) and the fleet's group size did not move
# (max == min). A fleet pinned at maxInstances fires too: a capacity signal the admin wants. Missing data does not breach (the cycle alert covers a dead function): no point, no series, no alert.
# The count_over_time guard needs a depth point from 15 minutes ago, so a window that starts mid-way (a fresh
# deployment, a gap in the data) cannot pass for 15 minutes of a deep queue.
resource "google_monitoring_alert_policy" "queue_deep_no_capacity_change" {
  for_each   = var.enable_alert_policies ? local.capacity_alert_fleets : {}
  depends_on = [google_project_service.required]

  project               = local.metrics_project
  display_name          = "fleetplane ${local.monitoring_environment}: ${each.key} queue deep and no capacity change for 15 minutes"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "${each.value.series} depth >= ${each.value.threshold} and ${each.key} size unchanged for 15 minutes"

    condition_prometheus_query_language {
      query                     = <<-EOT
        (
          min_over_time(custom_googleapis_com:fleetplane_queue_depth{monitored_resource="global",environment="${local.monitoring_environment}",series="${each.value.series}"}[15m]) >= ${each.value.threshold}
          and on (environment)
          count_over_time(custom_googleapis_com:fleetplane_queue_depth{monitored_resource="global",environment="${local.monitoring_environment}",series="${each.value.series}"}[1m] offset 15m) > 0
        )
        and on (environment)
        (
          max_over_time(custom_googleapis_com:fleetplane_fleet_current_size{monitored_resource="global",environment="${local.monitoring_environment}",fleet="${each.key}"}[15m])
          ==
          min_over_time(custom_googleapis_com:fleetplane_fleet_current_size{monitored_resource="global",environment="${local.monitoring_environment}",fleet="${each.key}"}[15m])
        )
      EOT
      duration                  = "0s"
      evaluation_interval       = local.alert_evaluation_interval
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      Fleet `${each.key}` (environment `${local.monitoring_environment}`): the `${each.value.series}` queue held at least
      ${each.value.threshold} jobs for 15 minutes, so GCP's share of it was at least ${each.value.jobs_per_instance}
      (jobsPerInstance, one instance's worth), and the group's size did not change.
      Check the fleet's scale decisions on the dashboard: at maxInstances, a pause, refused resizes (errors from the
      cloud), or a shadow fleet whose autoscaler is not scaling.
    EOT
  }

  lifecycle {
    precondition {
      condition     = local.monitoring_environment_ok
      error_message = local.environment_error
    }
  }
}

# --- Alert: rotation failed ------------------------------------------------------------------------------------------

# Only where rotation is deployed: the same gate as rotate.tf (the config names executorSecret.gcpSecretManager).
# Rotations are rare, so missing data does not breach. Any rotation_failed = 1 fires; the 15-minute window outlasts a
# whole rotation (rotate_timeout_seconds), so the point is seen whether it is stamped at the rotation's start or end,
# and the incident closes by itself 15 minutes later.
resource "google_monitoring_alert_policy" "rotation_failed" {
  count      = var.enable_alert_policies && local.rotation_enabled ? 1 : 0
  depends_on = [google_project_service.required]

  project               = local.metrics_project
  display_name          = "fleetplane ${local.monitoring_environment}: rotation failed"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "A rotation of the executor secret failed"

    condition_prometheus_query_language {
      query                     = <<-EOT
        max_over_time(custom_googleapis_com:fleetplane_rotation_failed{monitored_resource="global",environment="${local.monitoring_environment}"}[15m]) >= 1
      EOT
      duration                  = "0s"
      evaluation_interval       = local.alert_evaluation_interval
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A rotation of the executor secret `${local.executor_secret_name}` failed (environment
      `${local.monitoring_environment}`). Sourcegraph may already accept the new token while executors still boot with
      the old one: read the rotate functions' logs, then POST to the rotate function (no body) to resume the rotation
      under way.
    EOT
  }

  lifecycle {
    precondition {
      condition     = local.monitoring_environment_ok
      error_message = local.environment_error
    }
  }
}
