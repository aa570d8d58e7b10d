job "example" {
  meta {
    a = "1"
  }
  meta = {
    b = "2"
  }

  group "web" {
    network {
      port "http" {}
      port "http" {}
    }
    network {}

    task "app" {
      driver = "docker"
      resources {}
      resources {}
      config {
        mount = []
        mount {}
      }
      config {}
    }

    task "app" {
      driver = "docker"
    }
  }

  group "web" {}
}
