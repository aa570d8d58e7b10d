job "pod" {
  datacenters = ["*"]
  group "pod" {
    network {
      mode = "bridge"
      port "http" { to = 8080 }
      dns {
        servers  = ["10.0.0.53"]
        searches = ["svc.local"]
        options  = ["ndots:2"]
      }
    }
    volume "certs" {
      type      = "host"
      source    = "ca-certs"
      read_only = true
    }
    ephemeral_disk {
      size    = 500
      sticky  = true
      migrate = true
    }
    task "app" {
      driver = "docker"
      config {
        image       = "drover-demo:v1"
        pull_policy = "if_not_present"
        cap_drop    = ["ALL"]
        ulimit {
          nofile = "1024:2048"
        }
        mount {
          type   = "tmpfs"
          target = "/scratch"
          tmpfs_options {
            size = 1048576
          }
        }
        healthchecks {
          disable = true
        }
      }
      volume_mount {
        volume      = "certs"
        destination = "/etc/certs"
        read_only   = true
      }
    }
  }
}
