// One import point for the view layer: Preact, its hooks and htm bound to h.
import { h, render, Fragment } from 'preact';
import htm from 'htm';

export { h, render, Fragment };
export { useState, useEffect, useMemo, useRef, useCallback, useId, useLayoutEffect } from 'preact/hooks';
export const html = htm.bind(h);
