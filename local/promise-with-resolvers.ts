/**
 * `Promise.withResolvers` (Node 22), which aws-local-stepfunctions calls on every Task state:
 * installed on Node 20, where it is missing.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const withResolvers = <T>(): Resolvers<T> => {
  let resolve!: Resolvers<T>['resolve'];
  let reject!: Resolvers<T>['reject'];
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const PromiseConstructor = Promise as unknown as { withResolvers?: typeof withResolvers };
PromiseConstructor.withResolvers ??= withResolvers;
