#include "engine/signal_names.h"

#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace usercrash::engine {

std::string signal_name(int signo) {
  switch (signo) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGSTKFLT: return "SIGSTKFLT";
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGURG: return "SIGURG";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGWINCH: return "SIGWINCH";
    case SIGIO: return "SIGIO";
    case SIGPWR: return "SIGPWR";
    case SIGSYS: return "SIGSYS";
    default: break;
  }
  // The kernel numbers real-time signals 32..64.
  if (signo >= 32 && signo <= 64) return fmt::format("SIG{}", signo);
  return "SIG?";
}

std::string signal_code_name(int signo, int code, ArchId arch) {
  // Codes <= 0 mean the same for every signal: who sent it.
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    case SI_DETHREAD: return "SI_DETHREAD";
    case SI_ASYNCNL: return "SI_ASYNCNL";
    default: break;
  }
  if (code <= 0) return "?";
  switch (signo) {
    case SIGSEGV: {
      static const char* names[] = {nullptr,        "SEGV_MAPERR",  "SEGV_ACCERR",  "SEGV_BNDERR",
                                    "SEGV_PKUERR",  "SEGV_ACCADI",  "SEGV_ADIDERR", "SEGV_ADIPERR",
                                    "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"};
      if (code >= static_cast<int>(std::size(names))) break;
      // 1 and 2 are everyone's; the rest belong to one architecture each.
      if (code <= 2) return names[code];
      for (uint8_t own : engine::arch(arch).segv_codes)
        if (own == code) return names[code];
      break;
    }
    case SIGBUS: {
      static const char* names[] = {nullptr,      "BUS_ADRALN",    "BUS_ADRERR",
                                    "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"};
      if (code < static_cast<int>(std::size(names))) return names[code];
      break;
    }
    case SIGFPE: {
      static const char* names[] = {nullptr,      "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",  "FPE_FLTUND",
                                    "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "FPE_FLTUNK", "FPE_CONDTRAP"};
      if (code < static_cast<int>(std::size(names))) return names[code];
      break;
    }
    case SIGILL: {
      static const char* names[] = {nullptr,      "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
                                    "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"};
      if (code < static_cast<int>(std::size(names))) return names[code];
      break;
    }
    case SIGTRAP: {
      static const char* names[] = {nullptr,       "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH",
                                    "TRAP_HWBKPT", "TRAP_UNK",   "TRAP_PERF"};
      if (code < static_cast<int>(std::size(names))) return names[code];
      break;
    }
    case SIGCHLD: {
      static const char* names[] = {nullptr,       "CLD_EXITED",  "CLD_KILLED",   "CLD_DUMPED",
                                    "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
      if (code < static_cast<int>(std::size(names))) return names[code];
      break;
    }
    case SIGSYS:
      if (code == 1) return "SYS_SECCOMP";
      break;
    default: break;
  }
  return "?";
}

bool signal_has_fault_address(int signo, int code) {
  // SI_KERNEL (general protection fault, int3) is positive but carries no address.
  if (code <= 0 || code == SI_KERNEL) return false;
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL || signo == SIGTRAP;
}

bool signal_sent_by_process(int code) { return code == SI_USER || code == SI_TKILL || code == SI_QUEUE; }

}  // namespace usercrash::engine
