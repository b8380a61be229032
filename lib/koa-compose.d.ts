// koa-compose ships no types, and @types/koa-compose drags in all of Koa's; this is the one signature we use.
// Middleware is exported for @types/koa (hookchain/server), whose Koa.Middleware is compose.Middleware.
declare module 'koa-compose' {
  export type Middleware<T> = (context: T, next: () => Promise<void>) => unknown;
  function compose<T>(middleware: Middleware<T>[]): (context: T, next?: () => Promise<void>) => Promise<void>;
  export default compose;
}
