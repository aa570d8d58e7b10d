job "example" {
  datacenters = "dc1"
  priority    = "high"

  group "web" {
    count = 1.5

    network {
      port "http" {
        static = "eighty"
      }
    }

    task "app" {
      driver = ["docker"]
      leader = "yes"

      resources {
        cpu    = 1e12
        memory = { mb = 64 }
      }
    }
  }
}
