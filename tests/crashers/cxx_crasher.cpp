// Dies of an uncaught C++ exception (std::terminate, then abort), for
// usercrash's tests. Modes:
//   out_of_range  std::out_of_range("no account named 'mallory'")
//   long_message  std::runtime_error with a message longer than any small-string buffer
//   custom        bank::AccountLocked, a type that is not a std::exception
//   int           a thrown int
//   own_what      a std::runtime_error subclass whose what() is its own
#include <barrier>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace bank {

struct AccountLocked {
  int id;
};

class Refused : public std::runtime_error {
 public:
  Refused() : std::runtime_error("refused (runtime_error's message)") {}
  const char* what() const noexcept override { return "refused (the override's message)"; }
};

class Ledger {
 public:
  Ledger() { accounts_["alice"] = 10; }
  long balance(const std::string& name) const {
    auto it = accounts_.find(name);
    if (it == accounts_.end()) throw std::out_of_range("no account named '" + name + "'");
    return it->second;
  }

 private:
  std::map<std::string, long> accounts_;
};

}  // namespace bank

__attribute__((noinline)) static long transfer(const char* mode) {
  bank::Ledger ledger;
  if (std::strcmp(mode, "out_of_range") == 0) return ledger.balance("mallory");
  if (std::strcmp(mode, "long_message") == 0)
    throw std::runtime_error("the ledger could not be balanced: " + std::string(200, '#') + " (end)");
  if (std::strcmp(mode, "custom") == 0) throw bank::AccountLocked{7};
  if (std::strcmp(mode, "int") == 0) throw 42;
  if (std::strcmp(mode, "own_what") == 0) throw bank::Refused();
  return ledger.balance("alice");
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "out_of_range";
  std::printf("ready\n");
  std::fflush(stdout);
  // In a thread of its own, so the exception lives in that thread's
  // globals; thrown once the main thread is out of thread creation.
  std::barrier started(2);
  std::thread worker([mode, &started] {
    started.arrive_and_wait();
    std::printf("%ld\n", transfer(mode));
  });
  started.arrive_and_wait();
  worker.join();
  return 0;
}
