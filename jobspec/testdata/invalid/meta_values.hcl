job "example" {
  meta {
    list = ["a", "b"]
    ok   = "yes"
  }

  group "web" {
    meta = ["not", "a", "map"]

    task "app" {
      driver = "docker"

      env = {
        NESTED = { a = 1 }
      }

      meta {
        inner {
          x = 1
        }
      }
    }
  }
}
