// Command edgectl compiles a Git repository of routing intents into Envoy
// configuration, shows what a change does, and delivers it.
package main

import "os"

func main() { os.Exit(Main()) }
