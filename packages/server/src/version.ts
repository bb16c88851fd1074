/** The version this package reports on `ping`, `/status` and its instrumentation scope. */
export const SERVER_PACKAGE_VERSION = '0.1.0';
