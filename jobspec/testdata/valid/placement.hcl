job "placement" {
  type = "system"

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  constraint {
    distinct_hosts = true
  }
  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
    weight    = 70
  }
  spread {
    attribute = "${node.datacenter}"
    weight    = 100
    target "dc1" {
      percent = 60
    }
    target "dc2" {
      percent = 40
    }
  }

  group "web" {
    constraint {
      attribute = "${attr.driver.docker.version}"
      version   = ">= 20.10"
    }
    constraint {
      distinct_property = "${meta.rack}"
      value             = 2
    }
    affinity {
      attribute = "${meta.spot}"
      value     = "true"
      weight    = -50
    }
    spread {
      attribute = "${meta.rack}"
    }

    task "app" {
      driver = "docker"
      config {
        image = "busybox:1"
      }
      constraint {
        attribute = "${attr.cpu.numcores}"
        operator  = ">="
        value     = 2
      }
      affinity {
        attribute        = "${meta.tags}"
        set_contains_any = "ssd,nvme"
      }
    }
  }
}
