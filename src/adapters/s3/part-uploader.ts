// Streams a body to S3 holding ONE part in memory: read into a part-sized buffer, sent, the buffer reused.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface PartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** At least S3's 5 MiB (every part but the last must be). */
  readonly partSizeBytes: number;
  readonly signal?: AbortSignal;
}

/**
 * Reads `body` into one buffer of the part size and sends each full buffer as a part, waiting for it before reading
 * on (the body is paused meanwhile), so memory is one part and the socket's buffers whatever the object's size —
 * lib-storage's `Upload` copies each part out of its chunks and holds about three (measured: docs/ARCHITECTURE.md
 * "Objects"). A body smaller than a part is one PutObject. On any failure the multipart upload is aborted, so no
 * part is left on storage; the failure is rethrown as it came.
 * @returns the number of bytes stored
 */
export async function uploadInParts(client: S3Client, body: AsyncIterable<Buffer>, u: PartUpload): Promise<number> {
  const buffer = Buffer.allocUnsafe(u.partSizeBytes);
  const parts: CompletedPart[] = [];
  const send = { abortSignal: u.signal };
  let filled = 0;
  let bytes = 0;
  let uploadId: string | undefined;
  const sendPart = async (length: number): Promise<void> => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: u.bucket, Key: u.key, ContentType: u.contentType }), send)).UploadId;
    const PartNumber = parts.length + 1;
    const out = await client.send(
      new UploadPartCommand({ Bucket: u.bucket, Key: u.key, UploadId: uploadId, PartNumber, Body: buffer.subarray(0, length), ContentLength: length }),
      send,
    );
    parts.push({ ETag: out.ETag, PartNumber });
  };
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        const n = chunk.copy(buffer, filled, at);
        filled += n;
        at += n;
        if (filled === buffer.length) {
          await sendPart(filled);
          filled = 0;
        }
      }
    }
    if (uploadId === undefined && parts.length === 0) {
      await client.send(new PutObjectCommand({ Bucket: u.bucket, Key: u.key, ContentType: u.contentType, Body: buffer.subarray(0, filled), ContentLength: filled }), send);
      return bytes;
    }
    if (filled > 0) await sendPart(filled);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: u.bucket, Key: u.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), send);
    return bytes;
  } catch (error) {
    // Best effort: the parts of an upload that is never completed or aborted would stay on storage (and be billed).
    if (uploadId !== undefined) await client.send(new AbortMultipartUploadCommand({ Bucket: u.bucket, Key: u.key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}
