// Names of signals and their si_code values.
#include "engine/signal_names.h"

#include <csignal>

#include <gtest/gtest.h>

namespace usercrash::engine {
namespace {

TEST(SignalName, ClassicSignals) {
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGBUS), "SIGBUS");
  EXPECT_EQ(signal_name(SIGFPE), "SIGFPE");
  EXPECT_EQ(signal_name(SIGILL), "SIGILL");
  EXPECT_EQ(signal_name(SIGTRAP), "SIGTRAP");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGSYS), "SIGSYS");
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGQUIT), "SIGQUIT");
  EXPECT_EQ(signal_name(SIGXCPU), "SIGXCPU");
  EXPECT_EQ(signal_name(SIGSTKFLT), "SIGSTKFLT");
  EXPECT_EQ(signal_name(SIGPWR), "SIGPWR");
}

TEST(SignalName, EveryStandardSignalHasItsOwnName) {
  for (int s = 1; s < 32; ++s) {
    std::string name = signal_name(s);
    EXPECT_TRUE(name.starts_with("SIG")) << s;
    EXPECT_NE(name, "SIG?") << s;
    EXPECT_NE(name, "SIG" + std::to_string(s)) << s;
  }
}

TEST(SignalName, RealTimeAndNonsense) {
  EXPECT_EQ(signal_name(32), "SIG32");
  EXPECT_EQ(signal_name(34), "SIG34");
  EXPECT_EQ(signal_name(SIGRTMIN), "SIG" + std::to_string(SIGRTMIN));
  EXPECT_EQ(signal_name(64), "SIG64");
  EXPECT_EQ(signal_name(65), "SIG?");
  EXPECT_EQ(signal_name(0), "SIG?");
  EXPECT_EQ(signal_name(-11), "SIG?");
  EXPECT_EQ(signal_name(1 << 30), "SIG?");
}

TEST(SignalCodeName, FaultCodes) {
  EXPECT_EQ(signal_code_name(SIGSEGV, SEGV_MAPERR), "SEGV_MAPERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, SEGV_ACCERR), "SEGV_ACCERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, 3), "SEGV_BNDERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, 4), "SEGV_PKUERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, 10), "SEGV_CPERR");
  EXPECT_EQ(signal_code_name(SIGSEGV, 11), "?");
  EXPECT_EQ(signal_code_name(SIGBUS, BUS_ADRALN), "BUS_ADRALN");
  EXPECT_EQ(signal_code_name(SIGBUS, BUS_ADRERR), "BUS_ADRERR");
  EXPECT_EQ(signal_code_name(SIGBUS, BUS_OBJERR), "BUS_OBJERR");
  EXPECT_EQ(signal_code_name(SIGBUS, 4), "BUS_MCEERR_AR");
  EXPECT_EQ(signal_code_name(SIGBUS, 5), "BUS_MCEERR_AO");
  EXPECT_EQ(signal_code_name(SIGBUS, 6), "?");
  EXPECT_EQ(signal_code_name(SIGFPE, FPE_INTDIV), "FPE_INTDIV");
  EXPECT_EQ(signal_code_name(SIGFPE, FPE_INTOVF), "FPE_INTOVF");
  EXPECT_EQ(signal_code_name(SIGFPE, FPE_FLTDIV), "FPE_FLTDIV");
  EXPECT_EQ(signal_code_name(SIGFPE, FPE_FLTSUB), "FPE_FLTSUB");
  EXPECT_EQ(signal_code_name(SIGFPE, 15), "?");
  EXPECT_EQ(signal_code_name(SIGILL, ILL_ILLOPC), "ILL_ILLOPC");
  EXPECT_EQ(signal_code_name(SIGILL, ILL_ILLOPN), "ILL_ILLOPN");
  EXPECT_EQ(signal_code_name(SIGILL, ILL_PRVOPC), "ILL_PRVOPC");
  EXPECT_EQ(signal_code_name(SIGILL, ILL_BADSTK), "ILL_BADSTK");
  EXPECT_EQ(signal_code_name(SIGTRAP, TRAP_BRKPT), "TRAP_BRKPT");
  EXPECT_EQ(signal_code_name(SIGTRAP, TRAP_TRACE), "TRAP_TRACE");
  EXPECT_EQ(signal_code_name(SIGTRAP, 4), "TRAP_HWBKPT");
  EXPECT_EQ(signal_code_name(SIGCHLD, CLD_DUMPED), "CLD_DUMPED");
  EXPECT_EQ(signal_code_name(SIGSYS, 1), "SYS_SECCOMP");
  EXPECT_EQ(signal_code_name(SIGSYS, 2), "?");
}

TEST(SignalCodeName, CodesMeanTheirOwnSignalOnly) {
  EXPECT_EQ(signal_code_name(SIGABRT, 1), "?");
  EXPECT_EQ(signal_code_name(SIGUSR1, 2), "?");
  EXPECT_EQ(signal_code_name(SIGSEGV, 1000), "?");
  EXPECT_EQ(signal_code_name(40, 1), "?");
}

TEST(SignalCodeName, SenderCodesForEverySignal) {
  for (int s : {SIGSEGV, SIGABRT, SIGKILL, 40}) {
    EXPECT_EQ(signal_code_name(s, SI_USER), "SI_USER");
    EXPECT_EQ(signal_code_name(s, SI_KERNEL), "SI_KERNEL");
    EXPECT_EQ(signal_code_name(s, SI_QUEUE), "SI_QUEUE");
    EXPECT_EQ(signal_code_name(s, SI_TIMER), "SI_TIMER");
    EXPECT_EQ(signal_code_name(s, SI_MESGQ), "SI_MESGQ");
    EXPECT_EQ(signal_code_name(s, SI_ASYNCIO), "SI_ASYNCIO");
    EXPECT_EQ(signal_code_name(s, SI_SIGIO), "SI_SIGIO");
    EXPECT_EQ(signal_code_name(s, SI_TKILL), "SI_TKILL");
    EXPECT_EQ(signal_code_name(s, SI_ASYNCNL), "SI_ASYNCNL");
  }
  EXPECT_EQ(signal_code_name(SIGSEGV, -7), "SI_DETHREAD");
  EXPECT_EQ(signal_code_name(SIGSEGV, -100), "?");
}

TEST(SignalFaultAddress, OnlyKernelFaultCodesOfFaultSignals) {
  EXPECT_TRUE(signal_has_fault_address(SIGSEGV, SEGV_MAPERR));
  EXPECT_TRUE(signal_has_fault_address(SIGBUS, BUS_ADRERR));
  EXPECT_TRUE(signal_has_fault_address(SIGFPE, FPE_INTDIV));
  EXPECT_TRUE(signal_has_fault_address(SIGILL, ILL_ILLOPN));
  EXPECT_TRUE(signal_has_fault_address(SIGTRAP, TRAP_BRKPT));
  EXPECT_FALSE(signal_has_fault_address(SIGSEGV, SI_USER));
  EXPECT_FALSE(signal_has_fault_address(SIGSEGV, SI_TKILL));
  EXPECT_FALSE(signal_has_fault_address(SIGABRT, SI_TKILL));
  EXPECT_FALSE(signal_has_fault_address(SIGABRT, 1));
  // The kernel sends SI_KERNEL for general protection faults and int3: si_addr is 0, not a fault address.
  EXPECT_FALSE(signal_has_fault_address(SIGSEGV, SI_KERNEL));
  EXPECT_FALSE(signal_has_fault_address(SIGTRAP, SI_KERNEL));
  EXPECT_FALSE(signal_has_fault_address(SIGBUS, SI_KERNEL));
}

TEST(SignalSentByProcess, SenderCodes) {
  EXPECT_TRUE(signal_sent_by_process(SI_USER));
  EXPECT_TRUE(signal_sent_by_process(SI_TKILL));
  EXPECT_TRUE(signal_sent_by_process(SI_QUEUE));
  EXPECT_FALSE(signal_sent_by_process(SI_KERNEL));
  EXPECT_FALSE(signal_sent_by_process(SI_TIMER));
  EXPECT_FALSE(signal_sent_by_process(SEGV_MAPERR));
}

}  // namespace
}  // namespace usercrash::engine
