region = "eu"

job "example" {
}

task "orphan" {
}
