// Crashes on purpose, for usercrash's tests: a panic with panic=abort in a
// spawned thread ("expect"), or a null-pointer write through `unsafe` ("null").
use std::collections::HashMap;
use std::env;
use std::sync::{Arc, Barrier};
use std::thread;

struct Ledger {
    accounts: HashMap<String, i64>,
}

#[inline]
fn lookup(ledger: &Ledger, name: &str) -> i64 {
    *ledger.accounts.get(name).expect("no such account")
}

#[inline]
fn apply(ledger: &Ledger, name: &str, amount: i64) -> i64 {
    lookup(ledger, name) + amount
}

#[inline(never)]
fn write_through(p: *mut i64, value: i64) {
    unsafe { std::ptr::write_volatile(p, value) }
}

#[inline(never)]
fn null_level1(value: i64) {
    write_through(std::ptr::null_mut(), value);
}

fn main() {
    let mode = env::args().nth(1).unwrap_or_default();
    println!("ready");
    let mut ledger = Ledger { accounts: HashMap::new() };
    ledger.accounts.insert("alice".to_string(), 10);
    let who = if mode == "expect" { "mallory" } else { "alice" };
    // The crash waits until the main thread is out of thread creation and on
    // its way to join, so that every thread's stack is an ordinary one.
    let barrier = Arc::new(Barrier::new(2));
    let started = Arc::clone(&barrier);
    let handle = thread::Builder::new()
        .name("ledger".into())
        .spawn(move || {
            started.wait();
            let total = apply(&ledger, who, 5);
            if mode == "null" {
                null_level1(total);
            }
            total
        })
        .unwrap();
    barrier.wait();
    println!("{}", handle.join().unwrap());
}
