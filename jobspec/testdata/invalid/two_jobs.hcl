job "one" {
}

job "two" {
}
