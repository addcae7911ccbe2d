/** A Pusher protocol frame as the server sends it. */
export interface Frame {
    event: string;
    channel?: string;
    /** Server frames carry data as a JSON-encoded string (Pusher's double encoding). */
    data?: unknown;
    user_id?: string;
    /** Herald: the message's position in the message stream. */
    serial?: number;
}
/** Parses a frame, or undefined when it is not a JSON object with an event. */
export declare function parseFrame(text: unknown): Frame | undefined;
/** Event data as JSON when it is JSON, else the string as it came. */
export declare function parseData(data: unknown): unknown;
/** Internal frames' data, always an object encoded as a string. */
export declare function dataObject<T>(data: unknown): Partial<T>;
