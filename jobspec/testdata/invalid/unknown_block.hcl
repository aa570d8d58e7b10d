job "example" {
  group "web" {
    service {
      name = "web"
    }

    update {
      max_parallel = 1
    }

    task "app" {
      driver = "docker"
      template {
        data = "x"
      }
    }
  }

  periodic {
    cron = "@daily"
  }
}
