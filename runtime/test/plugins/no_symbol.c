/* A shared library that is not a Peng plugin: it lacks the register symbol. */
int peng_test_not_a_plugin(void) { return 42; }
