# batch runs the demo app once to completion: it exits with code 0 after
# two seconds, so the allocation ends "complete" and is not restarted.
job "batch" {
  type        = "batch"
  datacenters = ["*"]

  group "work" {
    count = 1

    restart {
      attempts = 0
      mode     = "fail"
    }

    task "run" {
      driver = "docker"

      config {
        image = "drover-demo:v1"
      }

      env {
        CRASH_AFTER = "2s"
        EXIT_CODE   = "0"
      }

      resources {
        cpu    = 100
        memory = 32
      }
    }
  }
}
