/** Deep copy of plain data (objects, arrays, Dates, Maps, Sets); rfdc is ~20× cheaper than structuredClone on small state. */
import rfdc from 'rfdc';

export const clone: <T>(value: T) => T = rfdc({ proto: false, circles: false });
