-- AlterTable
ALTER TABLE "OutboxMessage" ADD COLUMN     "claimedUntil" TIMESTAMPTZ(3);
