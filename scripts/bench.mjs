// Placeholder: the benchmark of @isolsim/core's event loop comes with its own issue.
console.log('no benchmark yet');
