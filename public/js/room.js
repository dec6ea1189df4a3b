// @ts-check
// Placeholder: the JS island is being written.
export {};
