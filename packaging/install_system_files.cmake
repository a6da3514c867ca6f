# Runs at install time (install(SCRIPT)), when CMAKE_INSTALL_PREFIX is the
# prefix actually installed to: the systemd units name the server's real
# path, and the configuration goes to /etc for the /usr prefix (FHS), to
# PREFIX/etc otherwise.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc_dir "/etc")
else()
  set(etc_dir "${CMAKE_INSTALL_PREFIX}/${USERCRASH_SYSCONFDIR}")
endif()
set(USERCRASH_SBINDIR "${CMAKE_INSTALL_PREFIX}/${USERCRASH_SBINDIR}")

file(MAKE_DIRECTORY "${USERCRASH_STAGING_DIR}")
configure_file("${USERCRASH_PACKAGING_DIR}/usercrash.service.in" "${USERCRASH_STAGING_DIR}/usercrash.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     FILES "${USERCRASH_STAGING_DIR}/usercrash.service" "${USERCRASH_PACKAGING_DIR}/usercrash.socket")
file(INSTALL DESTINATION "${etc_dir}" TYPE FILE FILES "${USERCRASH_PACKAGING_DIR}/usercrash.conf")
