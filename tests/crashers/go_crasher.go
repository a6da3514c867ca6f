// Crashes on purpose, for usercrash's tests: a nil-pointer dereference in a
// goroutine, run with GOTRACEBACK=crash so that the runtime dumps core.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

type account struct {
	name    string
	balance int
}

//go:noinline
func greet(a *account) int {
	return a.balance + len(a.name)
}

func main() {
	var wg sync.WaitGroup
	var nobody *account
	if len(os.Args) > 1 && os.Args[1] == "alice" {
		nobody = &account{"alice", 1}
	}
	wg.Add(1)
	go func() {
		// As the C crasher does: pid and CLOCK_REALTIME ns, just before the crash.
		fmt.Printf("ready %d %d\n", os.Getpid(), time.Now().UnixNano())
		fmt.Println(greet(nobody))
		// Not deferred: a panic runs deferred calls, and main, woken by
		// them, could return (exit 0) before the runtime dumps core.
		wg.Done()
	}()
	wg.Wait()
}
