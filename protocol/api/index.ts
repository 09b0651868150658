export * from './error-codes.ts';
export * from './schemas.ts';
export * from './routes.ts';
export * from './answers.ts';
